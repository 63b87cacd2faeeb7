"""Browser sessions in the SQL store's `browser_sessions` table (see `browser_sessions.py`).

A write is delete-then-insert in one short transaction, so a session id (hash) has
one row; expired rows read as absent and go with `purge()`.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import InterfaceError, OperationalError

from bridge.clock import Clock
from bridge.storage.browser_sessions import BrowserSessionRecord
from bridge.storage.models import BrowserSessionRow
from bridge.storage.sql import unavailable

_UNREACHABLE = (OperationalError, InterfaceError)


class SqlBrowserSessions:
    def __init__(self, engine: Engine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def get(self, key: str) -> BrowserSessionRecord | None:
        row = BrowserSessionRow
        query = select(
            row.key, row.payload, row.created_at, row.last_seen_at, row.expires_at
        ).where(row.key == key, row.expires_at > self._clock.now())
        try:
            with self._engine.connect() as connection:
                found = connection.execute(query).first()
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc
        if found is None:
            return None
        return BrowserSessionRecord(
            key=found.key,
            payload=found.payload,
            created_at=found.created_at,
            last_seen_at=found.last_seen_at,
            expires_at=found.expires_at,
        )

    def put(self, record: BrowserSessionRecord) -> None:
        values = {
            "key": record.key,
            "payload": record.payload,
            "created_at": record.created_at,
            "last_seen_at": record.last_seen_at,
            "expires_at": record.expires_at,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    delete(BrowserSessionRow).where(BrowserSessionRow.key == record.key)
                )
                connection.execute(insert(BrowserSessionRow).values(**values))
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    def remove(self, key: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(BrowserSessionRow).where(BrowserSessionRow.key == key))
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    def purge(self) -> int:
        stale = delete(BrowserSessionRow).where(BrowserSessionRow.expires_at <= self._clock.now())
        try:
            with self._engine.begin() as connection:
                return int(connection.execute(stale).rowcount)
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc
