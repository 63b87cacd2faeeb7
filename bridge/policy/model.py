"""Plain frozen values exchanged with the engine: requests, principals, decisions, findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"

ContextValue = str | int | float | bool | list[Any]


@dataclass(frozen=True, slots=True)
class Request:
    """One request to decide.

    `context` maps condition keys (`aws:username`, `aws:PrincipalTag/team`) to a
    value or a list of values; keys are matched case-insensitively. The lowercased
    context and action are computed once here so evaluation does not redo them.
    """

    action: str
    resource: str
    context: Mapping[str, object] = field(default_factory=dict)
    lowered_action: str = field(init=False, repr=False, compare=False)
    lowered_context: Mapping[str, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lowered_action", self.action.lower())
        lowered = {key.lower(): value for key, value in self.context.items()}
        object.__setattr__(self, "lowered_context", lowered)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, for the `Principal` element of trust and resource policies."""

    arn: str
    account: str | None = None
    federated: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that took part in a decision."""

    policy_id: str
    policy_kind: str
    index: int
    sid: str | None
    effect: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an evaluation and the reasons for it."""

    effect: str
    matched: tuple[MatchedStatement, ...] = ()
    missing_context: tuple[str, ...] = ()
    unevaluable_denies: tuple[MatchedStatement, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOWED


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of `validate()`."""

    severity: str
    code: str
    path: str
    message: str
