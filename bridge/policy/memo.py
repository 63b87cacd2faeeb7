"""A bounded memo that keeps what is used and evicts the rest a generation at a time.

Two plain dicts: `recent` takes new entries; when it holds `limit // 2` entries it
becomes `older` and the previous `older` is dropped. A hit in `older` moves the
entry back to `recent`, so entries in use survive every turnover while one-off keys
(a million S3 object names) age out. Every operation is O(1); there is no
clear-all, and at most `limit` entries are held.

Callers on a hot path may read `recent` directly and call `revive` only on a miss.
Values are never `None` (a `None` from `get` means absent).
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most `limit` entries, recently used ones first to stay."""

    __slots__ = ("half", "older", "recent")

    def __init__(self, limit: int) -> None:
        if limit < 2:
            raise ValueError(f"invalid memo limit `{limit}`, expected at least 2")
        self.half = limit // 2
        self.recent: dict[K, V] = {}
        self.older: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        """The value for `key`, or `None`; a value found in `older` moves to `recent`."""
        value = self.recent.get(key)
        return self.revive(key) if value is None else value

    def revive(self, key: K) -> V | None:
        """The value for `key` from `older` (moved to `recent`), for callers that read
        `recent` themselves."""
        value = self.older.pop(key, None)
        if value is not None:
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        recent = self.recent
        if len(recent) >= self.half and key not in recent:
            self.older = recent
            recent = self.recent = {}
        recent[key] = value

    def __len__(self) -> int:
        return len(self.recent) + len(self.older)
