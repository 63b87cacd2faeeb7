"""Policy documents: `parse_policy()` and the `Policy` it returns.

Strict parsing is for documents we write: every rule is checked and the first
fault raises `PolicyError` with its JSON path. Lenient parsing loads stored
documents: unknown elements are ignored, a statement that cannot be understood is
dropped when it is an `Allow` (it grants nothing) and makes the whole policy fail
when it may be a `Deny` (a deny is never silently lost).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.policy.errors import PolicyError, type_name
from bridge.policy.statement import KINDS, Statement, parse_statement

VERSIONS = ("2012-10-17", "2008-10-17")
LEGACY_VERSION = "2008-10-17"
MAX_IDENTITY_SIZE = 131072
_TOP_ELEMENTS = ("Version", "Id", "Statement")


@dataclass(frozen=True, eq=False)
class Policy:
    """A parsed policy; equal (and hashed) by id, kind and content digest."""

    id: str
    version: str
    statements: tuple[Statement, ...]
    document: Mapping[str, Any] = field(repr=False)
    kind: str = "identity"
    digest: str = field(default="", repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return (self.id, self.kind, self.digest) == (other.id, other.kind, other.digest)

    def __hash__(self) -> int:
        return hash((self.id, self.kind, self.digest))


def parse_policy(
    doc: str | Mapping[str, Any],
    *,
    strict: bool = True,
    kind: str = "identity",
    policy_id: str | None = None,
) -> Policy:
    """Parse a policy document (JSON text or an already decoded object)."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind `{kind}`, expected one of {', '.join(KINDS)}")
    document = _load(doc, strict=strict)
    canonical = _canonical(document)
    if strict and kind == "identity":
        _check_size(doc if isinstance(doc, str) else canonical)
    if strict:
        _check_top_elements(document)
    version = _version(document.get("Version"), strict=strict)
    statements = _statements(document, version=version, kind=kind, strict=strict)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return Policy(
        id=policy_id or _document_id(document, strict) or f"policy-{digest[:12]}",
        version=version,
        statements=statements,
        document=document,
        kind=kind,
        digest=digest,
    )


def _load(doc: str | Mapping[str, Any], *, strict: bool) -> Mapping[str, Any]:
    if isinstance(doc, str):
        try:
            loaded = json.loads(doc, object_pairs_hook=_unique_keys, parse_constant=_constant)
        except json.JSONDecodeError as error:
            raise PolicyError(
                "", f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
            ) from None
        except _DuplicateKeyError as error:
            if strict:
                raise PolicyError("", f"duplicate key `{error.key}`") from None
            loaded = json.loads(doc)
    else:
        loaded = doc
    if not isinstance(loaded, Mapping):
        raise PolicyError("", f"expected a JSON object, got {type_name(loaded)}")
    return loaded


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _constant(name: str) -> float:
    raise PolicyError("", f"invalid JSON: `{name}` is not a number")


def _canonical(document: Mapping[str, Any]) -> str:
    try:
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise PolicyError("", f"the document is not JSON: {error}") from None


def _check_size(text: str) -> None:
    size = sum(1 for char in text if not char.isspace())
    if size > MAX_IDENTITY_SIZE:
        raise PolicyError(
            "",
            f"the document has {size} characters without whitespace, at most {MAX_IDENTITY_SIZE}",
        )


def _check_top_elements(document: Mapping[str, Any]) -> None:
    for name in document:
        if name not in _TOP_ELEMENTS:
            raise PolicyError(name, f"unknown element, expected one of {', '.join(_TOP_ELEMENTS)}")


def _version(value: object, *, strict: bool) -> str:
    if value is None and strict:
        raise PolicyError("Version", "missing required field Version, expected `2012-10-17`")
    if isinstance(value, str) and value in VERSIONS:
        return value
    if strict:
        shown = f"`{value}`" if isinstance(value, str) else type_name(value)
        raise PolicyError(
            "Version", f"unsupported version {shown}, expected `2012-10-17` or `2008-10-17`"
        )
    return LEGACY_VERSION


def _document_id(document: Mapping[str, Any], strict: bool) -> str | None:
    value = document.get("Id")
    if value is None or isinstance(value, str):
        return value or None
    if strict:
        raise PolicyError("Id", f"expected a string, got {type_name(value)}")
    return None


def _statements(
    document: Mapping[str, Any], *, version: str, kind: str, strict: bool
) -> tuple[Statement, ...]:
    raw = document.get("Statement")
    if raw is None:
        if strict:
            raise PolicyError("Statement", "missing required field Statement")
        return ()
    entries, paths = _statement_entries(raw, strict=strict)
    parsed: list[Statement] = []
    for index, (entry, path) in enumerate(zip(entries, paths, strict=True)):
        try:
            parsed.append(
                parse_statement(entry, index, path, version=version, kind=kind, strict=strict)
            )
        except PolicyError:
            if strict or _may_deny(entry):
                raise
    if strict:
        _check_unique_sids(parsed, paths)
    return tuple(parsed)


def _statement_entries(raw: object, *, strict: bool) -> tuple[Sequence[object], list[str]]:
    if isinstance(raw, Mapping):
        return [raw], ["Statement"]
    if not isinstance(raw, list):
        raise PolicyError("Statement", f"expected an object or an array, got {type_name(raw)}")
    if strict and not raw:
        raise PolicyError("Statement", "expected at least one statement")
    return raw, [f"Statement[{index}]" for index in range(len(raw))]


def _may_deny(entry: object) -> bool:
    """Whether an unparseable statement could be a `Deny` (anything not plainly an allow)."""
    effect = entry.get("Effect") if isinstance(entry, Mapping) else None
    return not (isinstance(effect, str) and effect.lower() == "allow")


def _check_unique_sids(statements: list[Statement], paths: list[str]) -> None:
    seen: set[str] = set()
    for statement in statements:
        if statement.sid:
            if statement.sid in seen:
                raise PolicyError(
                    f"{paths[statement.index]}.Sid", f"duplicate Sid `{statement.sid}`"
                )
            seen.add(statement.sid)
