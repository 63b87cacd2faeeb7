"""Session tags and source identity claimed by an ID token (contract §3.2).

The claims `https://aws.amazon.com/tags` and `https://aws.amazon.com/source_identity`
are validated by `oidc.check_claims` with `parse_tags` and kept in the identity's
`attributes` under those claim names (the tags object compact-JSON-encoded);
`session_tags()`, `transitive_tag_keys()` and `source_identity()` read them back.
No JOSE library here: only `oidc.py` imports one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.identity import VerifiedIdentity

TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
MAX_SESSION_TAGS = 50


@dataclass(frozen=True)
class SessionTags:
    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()


def parse_tags(value: Any) -> SessionTags:
    """Validate the `https://aws.amazon.com/tags` claim (contract §3.2)."""
    if not isinstance(value, dict):
        raise _tag_error("", "must be a JSON object")
    tags = _principal_tags(value.get("principal_tags", {}))
    keys = value.get("transitive_tag_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _tag_error(".transitive_tag_keys", "must be an array of strings")
    known = {key.lower() for key, _ in tags}
    for index, key in enumerate(keys):
        if key.lower() not in known:
            raise _tag_error(f".transitive_tag_keys[{index}]", f"`{key}` is not a principal tag")
    return SessionTags(tags, tuple(keys))


def _principal_tags(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise _tag_error(".principal_tags", "must be a JSON object")
    if len(value) > MAX_SESSION_TAGS:
        raise _tag_error(".principal_tags", f"has {len(value)} tags, at most 50 are allowed")
    seen: set[str] = set()
    tags = []
    for key, raw in value.items():
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], str):
            raise _tag_error(f".principal_tags.{key}", "must be an array of one string")
        if not 1 <= len(key) <= 128 or len(items[0]) > 256 or key.lower() in seen:
            raise _tag_error(
                f".principal_tags.{key}",
                "needs a unique key (case-insensitive) of 1-128 characters and a value of 0-256",
            )
        seen.add(key.lower())
        tags.append((key, items[0]))
    return tuple(tags)


def _tag_error(path: str, rule: str) -> InvalidIdentityToken:
    return InvalidIdentityToken(f"claim `{TAGS_CLAIM}`{path} {rule}")


def session_tags(identity: VerifiedIdentity) -> tuple[tuple[str, str], ...]:
    """The principal tags the token asks for, as (key, value) pairs."""
    return _stored_tags(identity).tags


def transitive_tag_keys(identity: VerifiedIdentity) -> tuple[str, ...]:
    return _stored_tags(identity).transitive_keys


def source_identity(identity: VerifiedIdentity) -> str | None:
    values = identity.attribute(SOURCE_IDENTITY_CLAIM)
    return values[0] if values else None


def _stored_tags(identity: VerifiedIdentity) -> SessionTags:
    stored = identity.attribute(TAGS_CLAIM)
    return parse_tags(json.loads(stored[0])) if stored else SessionTags()
