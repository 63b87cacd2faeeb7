"""IAM's input rules, each raising `InvalidInput(field, message)`.

The limits and patterns follow the IAM API reference (`CreateUser`, `CreateGroup`,
`CreateRole`, `CreatePolicy`, `TagUser`) and the IAM quotas page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bridge.errors import InvalidInput, LimitExceeded
from bridge.storage.interfaces import Tag

_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/|/[\u0021-\u007f]+/")
_PATH_PREFIX = re.compile(r"/[\u0021-\u007f]*")
_DESCRIPTION = re.compile(r"[\t\n\r\u0020-\u007e\u00a1-\u00ff]*")
_ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
_TAG_EXTRA = set("_.:/=+-@")

MAX_TAGS = 50
MIN_SESSION_DURATION = 3600
MAX_SESSION_DURATION = 43200


def _name(field: str, value: str, maximum: int) -> str:
    if not 1 <= len(value) <= maximum:
        raise InvalidInput(field, f"`{value}` must be 1 to {maximum} characters long")
    if _NAME.fullmatch(value) is None:
        raise InvalidInput(field, f"`{value}` may contain only letters, digits and +=,.@_-")
    return value


def user_name(value: str, field: str = "user_name") -> str:
    return _name(field, value, 64)


def role_name(value: str, field: str = "role_name") -> str:
    return _name(field, value, 64)


def group_name(value: str, field: str = "group_name") -> str:
    return _name(field, value, 128)


def policy_name(value: str, field: str = "policy_name") -> str:
    return _name(field, value, 128)


def path(value: str, field: str = "path") -> str:
    """`/` or `/…/`, at most 512 characters from `!` to DEL."""
    if len(value) > 512:
        raise InvalidInput(field, f"`{value[:32]}…` must be at most 512 characters long")
    if _PATH.fullmatch(value) is None:
        raise InvalidInput(field, f"`{value}` must be `/` or begin and end with `/`")
    return value


def path_prefix(value: str, field: str = "path_prefix") -> str:
    if len(value) > 512 or _PATH_PREFIX.fullmatch(value) is None:
        raise InvalidInput(field, f"`{value}` must begin with `/`, at most 512 characters")
    return value


def description(value: str, field: str = "description") -> str:
    if len(value) > 1000:
        raise InvalidInput(field, "must be at most 1000 characters long")
    if _DESCRIPTION.fullmatch(value) is None:
        raise InvalidInput(field, "may contain only printable latin-1 characters")
    return value


def max_session_duration(value: int, field: str = "max_session_duration") -> int:
    if not MIN_SESSION_DURATION <= value <= MAX_SESSION_DURATION:
        raise InvalidInput(field, f"`{value}` must be between 3600 and 43200 seconds")
    return value


def account_id(value: str, field: str = "account_id") -> str:
    if _ACCOUNT_ID.fullmatch(value) is None:
        raise InvalidInput(field, f"`{value}` must be exactly 12 digits")
    return value


def _tag_text_ok(text: str) -> bool:
    return all(ch in _TAG_EXTRA or unicodedata.category(ch)[0] in ("L", "Z", "N") for ch in text)


def tag(value: Tag, field: str = "tags") -> Tag:
    """A key of 1 to 128 and a value of 0 to 256 letters, spaces, digits and `_.:/=+-@`."""
    if not 1 <= len(value.key) <= 128:
        raise InvalidInput(f"{field}.key", f"`{value.key}` must be 1 to 128 characters long")
    if len(value.value) > 256:
        raise InvalidInput(f"{field}.value", "must be at most 256 characters long")
    if value.key.lower().startswith("aws:"):
        raise InvalidInput(f"{field}.key", f"`{value.key}` uses the reserved prefix `aws:`")
    for part, text in (("key", value.key), ("value", value.value)):
        if not _tag_text_ok(text):
            raise InvalidInput(
                f"{field}.{part}", f"`{text}` may contain only letters, digits, spaces and _.:/=+-@"
            )
    return value


def tags(values: Sequence[Tag], field: str = "tags") -> tuple[Tag, ...]:
    """Each tag valid, keys unique regardless of case, at most 50."""
    seen: set[str] = set()
    for index, item in enumerate(values):
        tag(item, f"{field}[{index}]")
        if item.key.lower() in seen:
            raise InvalidInput(f"{field}[{index}].key", f"duplicate tag key `{item.key}`")
        seen.add(item.key.lower())
    if len(values) > MAX_TAGS:
        raise InvalidInput(field, f"at most {MAX_TAGS} tags, got {len(values)}")
    return tuple(values)


def merge_tags(existing: Sequence[Tag], new: Sequence[Tag]) -> tuple[Tag, ...]:
    """IAM's Tag* semantics: a new value replaces the tag with the same key (any case)."""
    tags(new)
    replaced = {item.key.lower() for item in new}
    merged = tuple(t for t in existing if t.key.lower() not in replaced) + tuple(new)
    if len(merged) > MAX_TAGS:
        raise LimitExceeded(f"cannot exceed quota for tags per resource: {MAX_TAGS}")
    return merged


def remove_tags(existing: Sequence[Tag], keys: Sequence[str]) -> tuple[Tag, ...]:
    """IAM's Untag* semantics: keys are matched regardless of case; absent keys are ignored."""
    gone = {key.lower() for key in keys}
    return tuple(t for t in existing if t.key.lower() not in gone)
