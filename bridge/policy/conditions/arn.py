"""ARN operators: `ArnEquals`, `ArnLike` (the same in IAM) and their negations.

Each of the six colon-separated parts is matched separately; wildcards in the
first five stay within their part. Policy values may hold policy variables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from bridge.policy.conditions.base import UnevaluableError, ValueTest
from bridge.policy.matching import alternation, arn_regex
from bridge.policy.variables import Pieces

_OPERATORS = {
    "ArnEquals": ("ArnLike", False),
    "ArnLike": ("ArnLike", False),
    "ArnNotEquals": ("ArnLike", True),
    "ArnNotLike": ("ArnLike", True),
}


def _request_arn(value: object) -> str:
    if type(value) is not str:
        raise UnevaluableError(f"expected an ARN, got `{value!r}`")
    return value


class ArnFamily:
    variables = True

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, _operator: str, values: Sequence[object], /) -> ValueTest:
        sources = [_source(cast(Pieces, value)) for value in values]
        regex = alternation(sources)
        return lambda value: regex.fullmatch(_request_arn(value)) is not None


def _source(pieces: Pieces) -> str:
    if pieces == (("*", False),):
        return ".*"
    return arn_regex(pieces)
