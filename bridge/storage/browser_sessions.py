"""Browser sessions of the login pages: the record, the repository protocol, and the
in-memory implementation (the SQL one is `sql_sessions.py`, the Redis one
`redis_sessions.py`; `open_browser_sessions` picks one from the settings).

A record is keyed by a hash of the session id, never the id itself: the cookie
holds the id, so reading the store does not yield a live session. The payload is
JSON text the store never looks into. Repositories work outside `Store.transaction()`
(one short write per request) and treat a record whose `expires_at` has passed as
absent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bridge.clock import Clock


@dataclass(frozen=True)
class BrowserSessionRecord:
    key: str  # hash of the session id (hex), or another hashed key such as a throttle
    payload: str  # JSON object
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class BrowserSessionRepository(Protocol):
    def get(self, key: str) -> BrowserSessionRecord | None:
        """The record, or None when absent or when its `expires_at` is not after now."""
        ...

    def put(self, record: BrowserSessionRecord) -> None:
        """Insert or replace the record with this key."""
        ...

    def remove(self, key: str) -> None:
        """Delete the record; nothing happens when it is absent."""
        ...

    def purge(self) -> int:
        """Delete every expired record; return how many went (0 where the store expires
        records by itself)."""
        ...


class MemoryBrowserSessions:
    """Records held in this process (unit tests and `memory://` development runs)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, BrowserSessionRecord] = {}

    def get(self, key: str) -> BrowserSessionRecord | None:
        with self._lock:
            record = self._records.get(key)
        if record is None or record.expires_at <= self._clock.now():
            return None
        return record

    def put(self, record: BrowserSessionRecord) -> None:
        with self._lock:
            self._records[record.key] = record

    def remove(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def purge(self) -> int:
        now = self._clock.now()
        with self._lock:
            stale = [key for key, record in self._records.items() if record.expires_at <= now]
            for key in stale:
                del self._records[key]
        return len(stale)


def open_browser_sessions(
    redis_url: str | None, store: object, clock: Clock
) -> BrowserSessionRepository:
    """Redis when configured; else the SQL store's table; else in memory."""
    if redis_url:
        from bridge.storage.redis_sessions import RedisBrowserSessions

        return RedisBrowserSessions(redis_url, clock=clock)
    from bridge.storage.sql import SqlStore

    if isinstance(store, SqlStore):
        from bridge.storage.sql_sessions import SqlBrowserSessions

        return SqlBrowserSessions(store.engine, clock=clock)
    return MemoryBrowserSessions(clock)
