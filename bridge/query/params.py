"""Typed parameters of the Query wire format, with IAM's limits and patterns.

botocore checks only `required` and `min`; the server enforces `max`, `pattern` and
enums and answers like AWS: `ValidationError` "N validation error(s) detected: Value
'x' at 'userName' failed to satisfy constraint: ..." naming every bad parameter at once.
A required parameter that is absent is `MissingParameter`.

Flattening (contract §1.2): lists `Name.member.N`, structures `Name.member.N.Field`,
an empty list is `Name=`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bridge.query.errors import QueryError
from bridge.storage.interfaces import Tag

Kind = Literal["string", "int", "bool", "list", "tags", "structs"]
NAME_PATTERN = r"[\w+=,.@-]+"
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
ARN_PATTERN = r"arn:[\w+=/,.@-]+:[\w+=/,.@-]+:[\w+=/,.@-]*:[0-9]*:[\w+=,.@\-/:*]+"
POLICY_PATTERN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "string"
    required: bool = False
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # for "structs": the field names of each member
    default: Any = None

    @property
    def wire_name(self) -> str:
        """AWS names parameters in messages with a lower-case first letter."""
        return self.name[:1].lower() + self.name[1:]


def parse(raw: Mapping[str, str], fields: tuple[Field, ...]) -> dict[str, Any]:
    """Read `fields` from the flat request parameters; every fault is reported together."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in fields:
        value = _read(raw, field)
        if value is None:
            if field.required:
                raise QueryError(
                    "MissingParameter", f"The request must contain the parameter {field.name}"
                )
            values[field.name] = field.default
            continue
        problems.extend(_check(field, value))
        values[field.name] = value
    if problems:
        count = len(problems)
        noun = "validation error" if count == 1 else "validation errors"
        raise QueryError("ValidationError", f"{count} {noun} detected: " + "; ".join(problems))
    return values


def _read(raw: Mapping[str, str], field: Field) -> Any:
    readers = {
        "string": _read_string,
        "int": _read_int,
        "bool": _read_bool,
        "list": _read_list,
        "tags": _read_tags,
        "structs": _read_structs,
    }
    return readers[field.kind](raw, field)


def _read_string(raw: Mapping[str, str], field: Field) -> str | None:
    return raw.get(field.name)


def _read_int(raw: Mapping[str, str], field: Field) -> int | None:
    text = raw.get(field.name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise QueryError(
            "ValidationError",
            f"1 validation error detected: Value '{text}' at '{field.wire_name}' "
            "failed to satisfy constraint: Member must be a number",
        ) from None


def _read_bool(raw: Mapping[str, str], field: Field) -> bool | None:
    text = raw.get(field.name)
    if text is None:
        return None
    if text.lower() not in {"true", "false"}:
        raise QueryError(
            "ValidationError",
            f"1 validation error detected: Value '{text}' at '{field.wire_name}' "
            "failed to satisfy constraint: Member must be true or false",
        )
    return text.lower() == "true"


def _read_list(raw: Mapping[str, str], field: Field) -> list[str] | None:
    prefix = f"{field.name}.member."
    indexed = _indexed(raw, prefix)
    if not indexed:
        return [] if field.name in raw else None
    return [raw[prefix + str(i)] for i in sorted(indexed) if prefix + str(i) in raw]


def _read_structs(raw: Mapping[str, str], field: Field) -> list[dict[str, Any]] | None:
    prefix = f"{field.name}.member."
    items: dict[int, dict[str, Any]] = {}
    for key, value in raw.items():
        if not key.startswith(prefix):
            continue
        index_text, _, rest = key[len(prefix) :].partition(".")
        if index_text.isdigit() and rest:
            _assign(items.setdefault(int(index_text), {}), rest, value)
    if not items:
        return [] if field.name in raw else None
    return [_lists(items[i]) for i in sorted(items)]


def _assign(target: dict[str, Any], path: str, value: str) -> None:
    """`Name` → a string; `Name.member.2` → slot 2 of a list (made a list by `_lists`)."""
    head, sep, rest = path.partition(".member.")
    if not sep:
        target[head] = value
        return
    index_text = rest.partition(".")[0]
    if index_text.isdigit():
        target.setdefault(head, {})[int(index_text)] = value


def _lists(item: dict[str, Any]) -> dict[str, Any]:
    return {
        key: [value[i] for i in sorted(value)] if isinstance(value, dict) else value
        for key, value in item.items()
    }


def _read_tags(raw: Mapping[str, str], field: Field) -> list[Tag] | None:
    structs = _read_structs(raw, Field(field.name, "structs"))
    if structs is None:
        return None
    tags = []
    for position, item in enumerate(structs, start=1):
        if "Key" not in item:
            raise QueryError(
                "ValidationError",
                "1 validation error detected: Value null at "
                f"'{field.wire_name}.{position}.member.key' "
                "failed to satisfy constraint: Member must not be null",
            )
        tags.append(Tag(key=item["Key"], value=item.get("Value", "")))
    return tags


def _indexed(raw: Mapping[str, str], prefix: str) -> set[int]:
    found = set()
    for key in raw:
        if key.startswith(prefix):
            tail = key[len(prefix) :]
            if tail.isdigit():
                found.add(int(tail))
    return found


def _check(field: Field, value: Any) -> list[str]:
    if field.kind == "string":
        return _check_string(field, value)
    if field.kind == "int":
        return _check_int(field, value)
    if field.kind == "list":
        return [p for item in value for p in _check_string(field, item)]
    return []


def _check_string(field: Field, value: str) -> list[str]:
    problems = []
    where = f"Value '{value}' at '{field.wire_name}' failed to satisfy constraint: "
    if field.min_len is not None and len(value) < field.min_len:
        problems.append(where + f"Member must have length greater than or equal to {field.min_len}")
    if field.max_len is not None and len(value) > field.max_len:
        shown = value if len(value) <= 64 else value[:64] + "..."
        problems.append(
            f"Value '{shown}' at '{field.wire_name}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {field.max_len}"
        )
    if field.pattern is not None and value and not re.fullmatch(field.pattern, value, re.DOTALL):
        problems.append(where + f"Member must satisfy regular expression pattern: {field.pattern}")
    if field.choices and value not in field.choices:
        problems.append(where + f"Member must satisfy enum value set: [{', '.join(field.choices)}]")
    return problems


def _check_int(field: Field, value: int) -> list[str]:
    where = f"Value '{value}' at '{field.wire_name}' failed to satisfy constraint: "
    if field.low is not None and value < field.low:
        return [where + f"Member must have value greater than or equal to {field.low}"]
    if field.high is not None and value > field.high:
        return [where + f"Member must have value less than or equal to {field.high}"]
    return []
