"""`SqlStore`: the `Store` over SQLAlchemy 2, SQLite by default, PostgreSQL by URL.

A transaction is one `Session`: commit when the block ends normally, roll back on
any exception. Database faults become domain errors: a constraint violation is
`AlreadyExists`, an unreachable or locked database is `StorageUnavailable`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from bridge.clock import Clock, SystemClock
from bridge.errors import AlreadyExists, StorageUnavailable
from bridge.storage import generation
from bridge.storage.engine import make_engine
from bridge.storage.interfaces import UnitOfWork
from bridge.storage.models import OneTimeKeyRow
from bridge.storage.sql_unit import SqlUnit

_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
_PURGE_EVERY = 1000


def unavailable(exc: DBAPIError | PoolTimeout) -> StorageUnavailable:
    """A server fault for the log: the driver's first line, never the URL or parameters."""
    if isinstance(exc, PoolTimeout):
        return StorageUnavailable("database unavailable: no free pooled connection in time")
    detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
    return StorageUnavailable(f"database unavailable: {type(exc.orig).__name__}: {detail}")


class SqlStore:
    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        pool_size: int = 5,
        connect_timeout: float = 5.0,
        schema: str | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._engine = make_engine(
            url, pool_size=pool_size, connect_timeout=connect_timeout, schema=schema
        )
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        generation.track_directory_changes(self._sessions)
        self._uses = 0
        self._directory_writes = 0
        self._writes_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for maintenance and tests; repositories go through
        `transaction()`)."""
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        session = self._sessions()
        try:
            yield SqlUnit(session)
            session.flush()
            changed = generation.directory_changed(session)
            if changed:
                generation.bump(session)
            session.commit()
            if changed:
                with self._writes_lock:
                    self._directory_writes += 1
        except IntegrityError as exc:
            raise AlreadyExists("a record written in this transaction already exists") from exc
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc
        finally:
            session.close()

    def directory_generation(self) -> int:
        try:
            with self._engine.connect() as connection:
                return generation.read(connection)
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    @property
    def directory_writes(self) -> int:
        return self._directory_writes

    def use_once(self, key: str, expires_at: datetime) -> bool:
        """One unique row per key: the insert that loses the race hits the primary key."""
        row = OneTimeKeyRow
        expired = (row.key == key, row.expires_at <= self._clock.now())
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(row).where(*expired))
                connection.execute(insert(row).values(key=key, expires_at=expires_at))
        except IntegrityError:
            return False
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc
        self._uses += 1
        if self._uses % _PURGE_EVERY == 0:
            self.purge_expired()
        return True

    def purge_expired(self) -> int:
        """Delete every expired one-time key; returns how many went (also run every
        1000 successful uses)."""
        stale = delete(OneTimeKeyRow).where(OneTimeKeyRow.expires_at <= self._clock.now())
        try:
            with self._engine.begin() as connection:
                return connection.execute(stale).rowcount
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    def ping(self) -> None:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    def close(self) -> None:
        self._engine.dispose()
