"""`BinaryEquals`: base64 policy values compared byte for byte with base64 request values."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import UnevaluableError, ValueTest

_OPERATORS = {"BinaryEquals": ("BinaryEquals", False)}


def parse_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected a base64 string, got `{value!r}`")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"expected base64, got `{value}`") from None


def _request_bytes(value: object) -> bytes:
    try:
        return parse_base64(value)
    except ValueError as error:
        raise UnevaluableError(str(error)) from None


class BinaryFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, _operator: str, values: Sequence[object], /) -> ValueTest:
        allowed = frozenset(parse_base64(value) for value in values)
        return lambda value: _request_bytes(value) in allowed
