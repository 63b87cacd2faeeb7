"""Ordered comparisons shared by the numeric and date families."""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Sequence

from bridge.policy.conditions.base import ValueTest

_ORDER: dict[str, tuple[Callable[[float, float], bool], Callable[..., float]]] = {
    # `x < any(values)` is `x < max(values)`, and so on.
    "LessThan": (op.lt, max),
    "LessThanEquals": (op.le, max),
    "GreaterThan": (op.gt, min),
    "GreaterThanEquals": (op.ge, min),
}


def ordered_test(
    relation: str, values: Sequence[float], coerce: Callable[[object], float]
) -> ValueTest:
    """A test of `coerce(request value) <relation> any of values`."""
    if relation == "Equals":
        allowed = frozenset(values)
        return lambda value: coerce(value) in allowed
    compare, pick = _ORDER[relation]
    bound = pick(values)
    return lambda value: compare(coerce(value), bound)
