"""The protocol every condition-operator family implements.

A family names its operators and compiles the policy values of one operator into
a `ValueTest`: a function telling whether one request value matches any of the
policy values. Negation, `IfExists`, set prefixes and absent keys are handled once,
by `Condition`, for every family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

ValueTest = Callable[[object], bool]


class UnevaluableError(Exception):
    """A request value that the operator cannot compare (e.g. text for a number)."""


class Family(Protocol):
    """One family of condition operators (strings, numbers, dates...)."""

    @property
    def variables(self) -> bool:
        """Whether string policy values may hold policy variables (given as pieces)."""
        ...

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        """Operator name -> (the positive operator it negates or is, negated)."""
        ...

    def compile(self, operator: str, values: Sequence[object], /) -> ValueTest:
        """Compile the values of a positive operator; `ValueError` names a bad value."""
        ...


def policy_text(value: object) -> str:
    """A scalar policy value as text (JSON numbers and booleans are accepted as text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"expected a string, got `{value!r}`")


def request_text(value: object) -> str:
    """A request value as text, or `UnevaluableError`."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise UnevaluableError(f"expected a string, got `{value!r}`")
