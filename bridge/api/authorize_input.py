"""The JSON body of `POST /v1/authorize`, read into the judge's dataclasses (no Flask).

Strict on input (CONVENTIONS 6): unknown fields, wrong types and out-of-range values
are refused with `InvalidInput` naming the JSON path (`requests[3].action`,
`caller.sigv4.headers.Host`, `context.aws:SourceIp`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.authz.judge import BearerSubject, Question, SigV4Subject, Subject, is_bridge_key
from bridge.authz.sigv4 import SignedRequest
from bridge.errors import InvalidInput

MAX_REQUESTS = 100
MAX_TEXT = 2048
MAX_TOKEN = 65536  # a session token carries its session policies
MAX_CONTEXT_KEYS = 100
MAX_CONTEXT_VALUES = 100
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_ACTION = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_*?-]+")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_METHOD = re.compile(r"[A-Z]{1,16}")
_SINGLE = frozenset({"caller", "action", "resource", "context"})
_BATCH = frozenset({"caller", "requests"})
_SIGV4 = frozenset({"method", "path", "query", "headers", "body_sha256"})


@dataclass(frozen=True)
class AuthorizeInput:
    subject: Subject
    questions: tuple[Question, ...]
    batch: bool


def parse_body(body: object) -> AuthorizeInput:
    """The single form (`action`, `resource`, `context`) or the batch form (`requests`)."""
    data = _object(body, "body")
    batch = "requests" in data
    _known(data, _BATCH if batch else _SINGLE, "")
    subject = _subject(data.get("caller"), "caller")
    if batch:
        return AuthorizeInput(subject, _requests(data["requests"]), batch=True)
    return AuthorizeInput(subject, (_question(data, ""),), batch=False)


def _subject(value: object, where: str) -> Subject:
    data = _object(value, where)
    if set(data) == {"bearer"}:
        return BearerSubject(_text(data["bearer"], f"{where}.bearer", limit=MAX_TOKEN))
    if set(data) == {"sigv4"}:
        return SigV4Subject(_sigv4(data["sigv4"], f"{where}.sigv4"))
    raise InvalidInput(where, "must have exactly one of `sigv4` and `bearer`")


def _sigv4(value: object, where: str) -> SignedRequest:
    data = _object(value, where)
    _known(data, _SIGV4, f"{where}.")
    method = _text(data.get("method"), f"{where}.method", limit=16)
    if not _METHOD.fullmatch(method):
        raise InvalidInput(f"{where}.method", f"`{method}` is not an upper-case HTTP method")
    path = _text(data.get("path"), f"{where}.path", limit=8192)
    if not path.startswith("/"):
        raise InvalidInput(f"{where}.path", f"`{path[:100]}` must start with `/`")
    query = _text(data.get("query", ""), f"{where}.query", limit=8192, empty=True)
    digest = _text(data.get("body_sha256", EMPTY_SHA256), f"{where}.body_sha256", limit=64)
    if not _SHA256.fullmatch(digest):
        raise InvalidInput(f"{where}.body_sha256", "must be 64 hexadecimal digits")
    headers = _headers(data.get("headers"), f"{where}.headers")
    return SignedRequest(method, path, query, headers, payload_sha256=digest.lower())


def _headers(value: object, where: str) -> dict[str, str]:
    data = _object(value, where)
    if not data:
        raise InvalidInput(where, "must name at least the signed headers")
    return {
        name: _text(v, f"{where}.{name}", limit=MAX_TOKEN, empty=True) for name, v in data.items()
    }


def _requests(value: object) -> tuple[Question, ...]:
    if not isinstance(value, list):
        raise InvalidInput("requests", f"must be a list, not {_kind(value)}")
    if not 1 <= len(value) <= MAX_REQUESTS:
        raise InvalidInput("requests", f"must have 1 to {MAX_REQUESTS} items, not {len(value)}")
    questions = []
    for n, item in enumerate(value):
        data = _object(item, f"requests[{n}]")
        _known(data, _SINGLE - {"caller"}, f"requests[{n}].")
        questions.append(_question(data, f"requests[{n}]."))
    return tuple(questions)


def _question(data: Mapping[str, object], prefix: str) -> Question:
    action = _text(data.get("action"), f"{prefix}action", limit=MAX_TEXT)
    if not _ACTION.fullmatch(action):
        raise InvalidInput(f"{prefix}action", f"`{action}` is not of the form `service:Action`")
    resource = _text(data.get("resource"), f"{prefix}resource", limit=MAX_TEXT)
    return Question(action, resource, _context(data.get("context"), f"{prefix}context"))


def _context(value: object, where: str) -> dict[str, object]:
    if value is None:
        return {}
    data = _object(value, where)
    if len(data) > MAX_CONTEXT_KEYS:
        raise InvalidInput(where, f"has {len(data)} keys, at most {MAX_CONTEXT_KEYS} allowed")
    for key, item in data.items():
        if not key or len(key) > MAX_TEXT:
            raise InvalidInput(f"{where}.{key[:100]}", "a condition key has 1 to 2048 characters")
        if is_bridge_key(key):
            raise InvalidInput(f"{where}.{key}", "is set by the bridge from the caller")
        _context_value(item, f"{where}.{key}")
    return dict(data)


def _context_value(value: object, where: str) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not 1 <= len(value) <= MAX_CONTEXT_VALUES:
        raise InvalidInput(where, f"must have 1 to {MAX_CONTEXT_VALUES} values")
    for item in items:
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise InvalidInput(where, f"a value has more than {MAX_TEXT} characters")
        if not isinstance(item, str | int | float | bool):
            raise InvalidInput(
                where, f"must be a string, number, boolean or list, not {_kind(item)}"
            )


def _object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidInput(where, f"must be a JSON object, not {_kind(value)}")
    return value


def _known(data: Mapping[str, object], allowed: frozenset[str], prefix: str) -> None:
    for name in data:
        if name not in allowed:
            raise InvalidInput(f"{prefix}{name}", "is not a known field")


def _text(value: object, where: str, *, limit: int, empty: bool = False) -> str:
    if value is None:
        raise InvalidInput(where, "is required")
    if not isinstance(value, str):
        raise InvalidInput(where, f"must be a string, not {_kind(value)}")
    if (not value and not empty) or len(value) > limit:
        raise InvalidInput(where, f"must have {0 if empty else 1} to {limit} characters")
    return value


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
