"""Numeric operators: `NumericEquals`, `NumericLessThan`... and `NumericNotEquals`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import UnevaluableError, ValueTest
from bridge.policy.conditions.compare import ordered_test

_OPERATORS = {
    "NumericEquals": ("NumericEquals", False),
    "NumericNotEquals": ("NumericEquals", True),
    "NumericLessThan": ("NumericLessThan", False),
    "NumericLessThanEquals": ("NumericLessThanEquals", False),
    "NumericGreaterThan": ("NumericGreaterThan", False),
    "NumericGreaterThanEquals": ("NumericGreaterThanEquals", False),
}


def parse_number(value: object) -> float:
    """A JSON number or numeric string as a finite float; `ValueError` otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got `{value}`") from None
    else:
        raise ValueError(f"expected a number, got `{value!r}`")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got `{value}`")
    return number


def _request_number(value: object) -> float:
    if type(value) is str:
        try:
            number = float(value.strip())
        except ValueError:
            raise UnevaluableError(f"expected a number, got `{value}`") from None
        if math.isfinite(number):
            return number
    try:
        return parse_number(value)
    except ValueError as error:
        raise UnevaluableError(str(error)) from None


class NumericFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, operator: str, values: Sequence[object], /) -> ValueTest:
        numbers = [parse_number(value) for value in values]
        return ordered_test(operator.removeprefix("Numeric"), numbers, _request_number)
