"""`AsyncStoreSink` on a real PostgreSQL database: concurrent requests' events all land,
each request thread's in order; an event PostgreSQL refuses is the only one lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.audit import AuditEvent, AuditLog, AuditStats, LoggingSink
from bridge.audit_writer import AsyncStoreSink, WriterPolicy
from bridge.storage import migrate
from bridge.storage.sql import SqlStore
from tests.e2e.live import postgres_database

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[SqlStore]:
    with postgres_database() as url:
        migrate.upgrade(url)
        opened = SqlStore(url, pool_size=2)
        try:
            yield opened
        finally:
            opened.close()


def stored(store: SqlStore) -> list[str]:
    """Request ids in recording order."""
    with store.transaction() as uow:
        found = uow.audit.query(since=None, until=None, principal=None, event=None, limit=10**6)
    return [record.request_id for record in reversed(found)]


def test_concurrent_writers_lose_nothing_and_keep_each_threads_order(store: SqlStore) -> None:
    sink = AsyncStoreSink(store, WriterPolicy(batch_size=500, flush_interval=0.05))
    log = AuditLog(LoggingSink(logging.getLogger("test.audit.quiet")), sink)

    def requests(thread: int) -> None:
        for n in range(600):
            log.record(AuditEvent(T0, "Authorize", "success", f"t{thread}-{n}"))

    threads = [threading.Thread(target=requests, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.close(20.0)
    found = stored(store)
    assert (len(found), log.stats()) == (2400, AuditStats(0, 2400, 0, 0))
    for t in range(4):
        assert [i for i in found if i.startswith(f"t{t}-")] == [f"t{t}-{n}" for n in range(600)]


def test_an_event_postgres_refuses_is_the_only_one_lost(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    sink = AsyncStoreSink(store, WriterPolicy(flush_interval=30.0))
    names = ["Authorize", "x" * 500, "CreateUser"]  # the event name column holds 128
    for n, name in enumerate(names):
        sink.write(AuditEvent(T0, name, "success", f"req-{n}"))
    with caplog.at_level(logging.ERROR, logger="bridge.audit.store"):
        assert sink.close(10.0)
    assert (stored(store), sink.stats()) == (["req-0", "req-2"], AuditStats(0, 2, 1, 0))
    assert [r.getMessage().split(":")[1] for r in caplog.records] == [
        " 1 events not stored (lost), request ids `req-1` to `req-1`"
    ]
