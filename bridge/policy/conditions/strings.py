"""String operators: `StringEquals`, `StringEqualsIgnoreCase`, `StringLike` and negations.

Policy values may hold policy variables; `StringLike` wildcards `*` and `?` match
any character (including `/`), escapes and substituted values are literal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from bridge.policy.conditions.base import ValueTest, request_text
from bridge.policy.matching import alternation, glob_regex
from bridge.policy.variables import Pieces, joined

_OPERATORS = {
    "StringEquals": ("StringEquals", False),
    "StringNotEquals": ("StringEquals", True),
    "StringEqualsIgnoreCase": ("StringEqualsIgnoreCase", False),
    "StringNotEqualsIgnoreCase": ("StringEqualsIgnoreCase", True),
    "StringLike": ("StringLike", False),
    "StringNotLike": ("StringLike", True),
}


class StringFamily:
    variables = True

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, operator: str, values: Sequence[object], /) -> ValueTest:
        pieces = [cast(Pieces, value) for value in values]
        if operator == "StringLike":
            return _like(pieces)
        if operator == "StringEqualsIgnoreCase":
            folded = frozenset(joined(p).lower() for p in pieces)
            return lambda value: request_text(value).lower() in folded
        exact = frozenset(joined(p) for p in pieces)
        return lambda value: (value if type(value) is str else request_text(value)) in exact


def _like(pieces: list[Pieces]) -> ValueTest:
    regex = alternation(glob_regex(p) for p in pieces)
    return lambda value: regex.fullmatch(request_text(value)) is not None
