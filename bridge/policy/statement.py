"""One parsed statement: its elements as written and their compiled matchers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridge.policy import elements
from bridge.policy.conditions import Condition
from bridge.policy.errors import PolicyError, type_name
from bridge.policy.matching import ActionMatcher
from bridge.policy.principals import PrincipalMatcher
from bridge.policy.resources import ResourceMatcher

KINDS = ("identity", "trust", "resource")
ALLOW = "Allow"
DENY = "Deny"
_ELEMENTS = frozenset(
    ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource")
) | {"NotResource", "Condition"}
_SID = re.compile(r"^[A-Za-z0-9]*$")
# kind -> (principal rule, resource rule): "required" or "prohibited"
_KIND_RULES = {
    "identity": ("prohibited", "required"),
    "trust": ("required", "prohibited"),
    "resource": ("required", "required"),
}


@dataclass(frozen=True)
class Statement:
    """A statement as written (`action`, `resource`...) with compiled matchers."""

    index: int
    sid: str | None
    effect: str
    action: tuple[str, ...]
    not_action: bool
    resource: tuple[str, ...] | None
    not_resource: bool
    principal: Mapping[str, tuple[str, ...]] | None
    not_principal: bool
    condition: Mapping[str, object] | None
    actions: ActionMatcher = field(repr=False, compare=False)
    resources: ResourceMatcher | None = field(repr=False, compare=False)
    principals: PrincipalMatcher | None = field(repr=False, compare=False)
    conditions: tuple[Condition, ...] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class _Context:
    path: str
    version: str
    kind: str
    strict: bool


def parse_statement(
    raw: object, index: int, path: str, *, version: str, kind: str, strict: bool
) -> Statement:
    """Parse `raw` found at `path`; `PolicyError` names the faulty element."""
    if not isinstance(raw, Mapping):
        raise PolicyError(path, f"expected an object, got {type_name(raw)}")
    where = _Context(path, version, kind, strict)
    if strict:
        _check_elements(raw, path)
    action, not_action = _pair(raw, "Action", where, required=True)
    resource, not_resource = _pair(raw, "Resource", where, required=False)
    principal, not_principal = _principal(raw, where)
    assert action is not None  # noqa: S101 - a required pair is present
    condition = raw.get("Condition")
    return Statement(
        index=index,
        sid=_sid(raw.get("Sid"), where),
        effect=_effect(raw.get("Effect"), where),
        action=action,
        not_action=not_action,
        resource=resource,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        condition=condition,
        actions=ActionMatcher(action, negated=not_action),
        resources=_resources(resource, not_resource, version),
        principals=_principals(principal, not_principal),
        conditions=_conditions(condition, where),
    )


def _check_elements(raw: Mapping[str, object], path: str) -> None:
    for name in raw:
        if name not in _ELEMENTS:
            expected = ", ".join(sorted(_ELEMENTS))
            raise PolicyError(f"{path}.{name}", f"unknown element, expected one of {expected}")


def _sid(value: object, where: _Context) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        if where.strict:
            raise PolicyError(f"{where.path}.Sid", f"expected a string, got {type_name(value)}")
        return None
    if where.strict and _SID.match(value) is None:
        raise PolicyError(f"{where.path}.Sid", f"invalid `{value}`, expected letters and digits")
    return value


def _effect(value: object, where: _Context) -> str:
    path = f"{where.path}.Effect"
    if value is None:
        raise PolicyError(where.path, "missing required field Effect")
    if value in (ALLOW, DENY):
        return str(value)
    if not where.strict and isinstance(value, str) and value.lower() == "deny":
        return DENY
    shown = f"`{value}`" if isinstance(value, str) else type_name(value)
    raise PolicyError(path, f"invalid effect {shown}, expected `Allow` or `Deny`")


def _pair(
    raw: Mapping[str, object], name: str, where: _Context, *, required: bool
) -> tuple[tuple[str, ...] | None, bool]:
    negative = f"Not{name}"
    if name in raw and negative in raw:
        raise PolicyError(where.path, f"has both {name} and {negative}, expected one of them")
    present = negative if negative in raw else name if name in raw else None
    rule = "required" if required else _KIND_RULES[where.kind][1]
    if present is None:
        if rule == "required":
            raise PolicyError(where.path, f"missing required field {name}")
        return None, False
    if rule == "prohibited":
        raise PolicyError(f"{where.path}.{present}", f"has prohibited field {present}")
    path = f"{where.path}.{present}"
    values = elements.strings(raw[present], path, allow_empty=not where.strict and present == name)
    _check_values(values, name, path, where.strict)
    return values, present == negative


def _check_values(values: tuple[str, ...], name: str, path: str, strict: bool) -> None:
    check = elements.check_action if name == "Action" else elements.check_resource
    for position, value in enumerate(values):
        where = f"{path}[{position}]" if len(values) > 1 else path
        if strict:
            check(value, where)


def _principal(
    raw: Mapping[str, object], where: _Context
) -> tuple[Mapping[str, tuple[str, ...]] | None, bool]:
    name = "NotPrincipal" if "NotPrincipal" in raw else "Principal"
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(where.path, "has both Principal and NotPrincipal, expected one of them")
    rule = _KIND_RULES[where.kind][0]
    if name not in raw:
        if rule == "required":
            raise PolicyError(where.path, "missing required field Principal")
        return None, False
    if rule == "prohibited":
        raise PolicyError(f"{where.path}.{name}", f"has prohibited field {name}")
    path = f"{where.path}.{name}"
    return elements.principal(raw[name], path, strict=where.strict), name == "NotPrincipal"


def _resources(
    resource: tuple[str, ...] | None, negated: bool, version: str
) -> ResourceMatcher | None:
    return None if resource is None else ResourceMatcher(resource, negated=negated, version=version)


def _principals(
    principal: Mapping[str, tuple[str, ...]] | None, negated: bool
) -> PrincipalMatcher | None:
    return None if principal is None else PrincipalMatcher(principal, negated=negated)


def _conditions(condition: object, where: _Context) -> tuple[Condition, ...]:
    if condition is None:
        return ()
    return elements.conditions(condition, f"{where.path}.Condition", where.version)
