"""Inputs of the IAM policy simulator: context entries and statement positions.

`context_values` converts `ContextEntries` from their `ContextKeyType` to the engine's
values (contract §4); `statement_spans` and `line_column` find where each statement of a
policy's JSON text starts (the opening brace) and ends (just after the closing brace).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from bridge.errors import InvalidInput
from bridge.policy.conditions.dates import parse_date

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


# --- statement positions -----------------------------------------------------------------


def statement_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Offsets of each statement in a policy's JSON text; empty when it cannot be scanned."""
    try:
        return tuple(_spans(text))
    except (ValueError, IndexError):
        return ()


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Offsets of each statement object under the top-level `Statement` key."""
    index = _skip(text, 0)
    if text[index] != "{":
        return
    index = _skip(text, index + 1)
    while text[index] == '"':
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past ':'
        _, end = _DECODER.raw_decode(text, index)
        if key == "Statement":
            yield from _elements(text, index) if text[index] == "[" else [(index, end)]
        index = _skip(text, end)
        index = _skip(text, index + 1) if text[index] == "," else index


def _elements(text: str, index: int) -> Iterator[tuple[int, int]]:
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        yield index, end
        index = _skip(text, end)
        index = _skip(text, index + 1) if text[index] == "," else index


def line_column(text: str, offset: int) -> dict[str, int]:
    """The 1-based line and column of `offset` in `text`, as IAM shows a position."""
    line_start = text.rfind("\n", 0, offset) + 1
    return {"Line": text.count("\n", 0, offset) + 1, "Column": offset - line_start + 1}


# --- context entries -------------------------------------------------------------------


def _number(text: str) -> object:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else value


def _boolean(text: str) -> object:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def _ip(text: str) -> object:
    ipaddress.ip_network(text, strict=False)
    return text


def _binary(text: str) -> object:
    base64.b64decode(text, validate=True)
    return text


def _date(text: str) -> object:
    parse_date(text)
    return text


_CONVERTERS: dict[str, Callable[[str], object]] = {
    "string": str,
    "numeric": _number,
    "boolean": _boolean,
    "ip": _ip,
    "binary": _binary,
    "date": _date,
}
_KEY_TYPES = tuple(f"{base}{suffix}" for base in _CONVERTERS for suffix in ("", "List"))


def context_values(entries: Sequence[Mapping[str, Any]]) -> dict[str, object]:
    """`ContextEntries` as the engine's context: one value, or a list for `…List` types."""
    context: dict[str, object] = {}
    for position, entry in enumerate(entries, start=1):
        where = f"ContextEntries.member.{position}"
        name, kind = entry.get("ContextKeyName"), entry.get("ContextKeyType")
        if not isinstance(name, str) or not 5 <= len(name) <= 256:
            raise InvalidInput(
                f"{where}.ContextKeyName", "must be a key name of 5 to 256 characters"
            )
        if kind not in _KEY_TYPES:
            raise InvalidInput(
                f"{where}.ContextKeyType", f"`{kind}` must be one of {', '.join(_KEY_TYPES)}"
            )
        values = _converted(entry.get("ContextKeyValues", []), str(kind), where)
        if not str(kind).endswith("List") and len(values) != 1:
            raise InvalidInput(
                f"{where}.ContextKeyValues", f"a `{kind}` key takes one value, got {len(values)}"
            )
        context[name] = values if str(kind).endswith("List") else values[0]
    return context


def _converted(raw: object, kind: str, where: str) -> list[object]:
    texts = [raw] if isinstance(raw, str) and raw else raw if isinstance(raw, list) else []
    convert = _CONVERTERS[kind.removesuffix("List")]
    converted = []
    for text in texts:
        try:
            converted.append(convert(str(text)))
        except (ValueError, binascii.Error):
            raise InvalidInput(
                f"{where}.ContextKeyValues", f"`{text}` is not a valid `{kind}` value"
            ) from None
    return converted
