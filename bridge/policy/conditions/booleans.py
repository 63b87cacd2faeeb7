"""`Bool`: `true`/`false` as JSON booleans or strings (case-insensitive)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import UnevaluableError, ValueTest

_OPERATORS = {"Bool": ("Bool", False)}
_TEXT = {"true": True, "false": False}


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected `true` or `false`, got `{value!r}`")


def _request_bool(value: object) -> bool:
    if type(value) is str:
        parsed = _TEXT.get(value.lower())
        if parsed is not None:
            return parsed
    try:
        return parse_bool(value)
    except ValueError as error:
        raise UnevaluableError(str(error)) from None


class BoolFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, _operator: str, values: Sequence[object], /) -> ValueTest:
        allowed = frozenset(parse_bool(value) for value in values)
        return lambda value: _request_bool(value) in allowed
