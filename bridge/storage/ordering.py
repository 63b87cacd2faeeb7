"""Orderings and wording every store shares, so that backends agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from bridge.storage.interfaces import PolicyVersion


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_HasName)


def by_name(records: Iterable[T]) -> list[T]:
    """Case-insensitive name order, ties broken by the exact name (the same on every backend)."""
    return sorted(records, key=lambda r: (r.name.lower(), r.name))


def version_number(version_id: str) -> int:
    """`v12` → 12; anything else sorts first."""
    digits = version_id[1:]
    return int(digits) if version_id[:1] == "v" and digits.isdigit() else 0


def version_order(versions: Iterable[PolicyVersion]) -> list[PolicyVersion]:
    """Creation order: by timestamp, then by version number (v1 before v2 before v10)."""
    return sorted(versions, key=lambda v: (v.created_at, version_number(v.version_id)))


def describe_membership(group_id: str, user_id: str) -> str:
    return f"membership of user `{user_id}` in group `{group_id}`"


def describe_attachment(principal_id: str, policy_id: str) -> str:
    return f"attachment of policy `{policy_id}` to `{principal_id}`"
