"""`Null`: `true` when the key is absent from the request, `false` when it is present.

The value tested is the absence of the key (a boolean), not a request value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import ValueTest
from bridge.policy.conditions.booleans import parse_bool

_OPERATORS = {"Null": ("Null", False)}


class NullFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, _operator: str, values: Sequence[object], /) -> ValueTest:
        expected = frozenset(parse_bool(value) for value in values)
        return lambda absent: absent in expected
