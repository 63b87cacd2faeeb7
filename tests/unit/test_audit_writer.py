"""`AsyncStoreSink`: batches in one transaction each, in order, never blocking; every event
is stored or counted lost (queue full, store refusing, store down past the retry bound)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.audit import AuditEvent, AuditLog, AuditStats, MemorySink
from bridge.audit_writer import AsyncStoreSink, WriterPolicy
from bridge.storage import migrate
from bridge.storage.interfaces import Store, UnitOfWork
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SLOW = 30.0  # a flush interval no test waits for: only a full batch or flush() writes


def event(n: int) -> AuditEvent:
    return AuditEvent(T0, "Authorize", "success", f"req-{n}")


def stored_ids(store: Store) -> list[str]:
    """Request ids in recording order."""
    with store.transaction() as uow:
        found = uow.audit.query(since=None, until=None, principal=None, event=None, limit=10**6)
    return [record.request_id for record in reversed(found)]


def wait_for(condition: Callable[[], bool], limit: float = 5.0) -> float:
    """Seconds until `condition` holds (fails past `limit`); polls every 10 ms."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - started


class CountingStore(MemoryStore):
    """A memory store that counts its transactions (one per stored batch)."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        self.transactions += 1
        return super().transaction()


@pytest.fixture
def make_sink() -> Iterator[Callable[..., AsyncStoreSink]]:
    made: list[AsyncStoreSink] = []

    def make(store: Store, **policy: float) -> AsyncStoreSink:
        made.append(AsyncStoreSink(store, WriterPolicy(**policy)))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for sink in made:
        sink.close(1.0)


@pytest.mark.parametrize(
    ("events", "batch_size", "transactions"),
    [
        pytest.param(1, 500, 1, id="one-event"),
        pytest.param(500, 500, 1, id="one-full-batch"),
        pytest.param(1201, 500, 3, id="three-batches"),
        pytest.param(10, 3, 4, id="small-batches"),
    ],
)
def test_flush_stores_every_event_in_order_one_transaction_per_batch(
    make_sink: Callable[..., AsyncStoreSink], events: int, batch_size: int, transactions: int
) -> None:
    store = CountingStore()
    sink = make_sink(store, batch_size=batch_size, flush_interval=SLOW)
    for n in range(events):
        sink.write(event(n))
    assert sink.flush(5.0)
    assert stored_ids(store) == [f"req-{n}" for n in range(events)]
    assert (store.transactions - 1, sink.stats()) == (transactions, AuditStats(0, events, 0, 0))


def test_a_full_batch_is_written_without_waiting_for_the_interval(
    make_sink: Callable[..., AsyncStoreSink],
) -> None:
    store = MemoryStore()
    sink = make_sink(store, batch_size=3, flush_interval=SLOW)
    for n in range(5):
        sink.write(event(n))
    wait_for(lambda: sink.stats().written == 3)
    time.sleep(0.2)
    assert (stored_ids(store), sink.stats().queue_depth) == (["req-0", "req-1", "req-2"], 2)


def test_a_partial_batch_is_written_after_the_flush_interval(
    make_sink: Callable[..., AsyncStoreSink],
) -> None:
    store = MemoryStore()
    sink = make_sink(store, flush_interval=0.2)
    sink.write(event(1))
    assert (stored_ids(store), sink.stats().queue_depth) == ([], 1)
    took = wait_for(lambda: stored_ids(store) == ["req-1"])
    assert 0.1 < took < 2.0


def test_an_idle_writer_wakes_for_the_next_event(
    make_sink: Callable[..., AsyncStoreSink],
) -> None:
    store = MemoryStore()
    sink = make_sink(store, flush_interval=0.05, idle_exit=SLOW)
    sink.write(event(1))
    wait_for(lambda: stored_ids(store) == ["req-1"])
    time.sleep(0.1)  # the writer now waits for work
    sink.write(event(2))
    took = wait_for(lambda: stored_ids(store) == ["req-1", "req-2"])
    assert took < 1.0


def test_a_full_queue_drops_and_counts_the_new_event_without_blocking(
    make_sink: Callable[..., AsyncStoreSink], caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    sink = make_sink(store, queue_size=5, flush_interval=SLOW)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="bridge.audit.store"):
        for n in range(8):
            sink.write(event(n))
    took = time.monotonic() - started
    assert (sink.stats(), took < 0.5) == (AuditStats(5, 0, 0, 3), True)
    assert [r.getMessage() for r in caplog.records] == [
        "audit: event Authorize `req-5` dropped (lost) because the queue is full; 1 dropped so far"
    ]
    assert sink.flush(5.0)
    assert (stored_ids(store), AuditLog(sink).lost()) == ([f"req-{n}" for n in range(5)], 3)


def unmigrated(tmp_path: Path) -> SqlStore:
    return SqlStore(f"sqlite:///{tmp_path / 'empty.db'}")


def test_a_store_that_answers_but_refuses_loses_the_events_at_once(
    tmp_path: Path, make_sink: Callable[..., AsyncStoreSink], caplog: pytest.LogCaptureFixture
) -> None:
    store = unmigrated(tmp_path)  # reachable (ping answers), but the table is missing
    sink = make_sink(store, retry_for=SLOW, flush_interval=SLOW)
    with caplog.at_level(logging.ERROR, logger="bridge.audit.store"):
        for n in range(3):
            sink.write(event(n))
        started = time.monotonic()
        assert sink.flush(10.0)
    took = time.monotonic() - started
    store.close()
    assert (sink.stats(), took < 5.0) == (AuditStats(0, 0, 3, 0), True)
    lost = [r.getMessage().split(":")[1] for r in caplog.records]
    assert lost == [
        f" 1 events not stored (lost), request ids `req-{n}` to `req-{n}`" for n in range(3)
    ]


@contextmanager
def down_store(tmp_path: Path) -> Iterator[tuple[SqlStore, Path]]:
    """A SQLite store whose directory does not exist yet: every connection fails."""
    folder = tmp_path / "later"
    store = SqlStore(f"sqlite:///{folder / 'bridge.db'}", connect_timeout=1)
    try:
        yield store, folder
    finally:
        store.close()


def test_a_down_store_is_retried_then_the_batch_is_counted_lost(
    tmp_path: Path, make_sink: Callable[..., AsyncStoreSink], caplog: pytest.LogCaptureFixture
) -> None:
    with down_store(tmp_path) as (store, _), caplog.at_level(logging.WARNING, "bridge.audit.store"):
        sink = make_sink(store, retry_for=0.6, first_backoff=0.05, flush_interval=SLOW)
        sink.write(event(1))
        sink.write(event(2))
        started = time.monotonic()
        assert sink.flush(10.0)
        took = time.monotonic() - started
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert (sink.stats(), 0.3 < took < 5.0, len(retries) >= 2) == (
        AuditStats(0, 0, 2, 0),
        True,
        True,
    )
    assert [e.split(":")[1] for e in errors] == [
        " 2 events not stored (lost), request ids `req-1` to `req-2`"
    ]
    assert all("store down, retrying a batch of 2 events" in r.getMessage() for r in retries)


def test_a_store_back_within_the_retry_bound_gets_every_event(
    tmp_path: Path, make_sink: Callable[..., AsyncStoreSink]
) -> None:
    with down_store(tmp_path) as (store, folder):
        sink = make_sink(store, retry_for=SLOW, first_backoff=0.05, max_backoff=0.1,
                         flush_interval=0.01)  # fmt: skip
        sink.write(event(1))
        assert not sink.flush(0.3)  # still down: nothing stored, nothing lost yet
        down = sink.stats()
        ready = tmp_path / "ready"  # migrated aside, then moved in at once
        ready.mkdir()
        migrate.upgrade(f"sqlite:///{ready / 'bridge.db'}")
        ready.rename(folder)
        sink.write(event(2))
        assert sink.flush(10.0)
        assert (down, sink.stats()) == (AuditStats(1, 0, 0, 0), AuditStats(0, 2, 0, 0))
        assert stored_ids(store) == ["req-1", "req-2"]


def test_close_drains_then_counts_what_is_left_and_later_events_as_lost(
    tmp_path: Path, make_sink: Callable[..., AsyncStoreSink]
) -> None:
    memory = MemoryStore()
    drained = make_sink(memory, flush_interval=SLOW)
    drained.write(event(1))
    assert (drained.close(5.0), stored_ids(memory)) == (True, ["req-1"])
    drained.write(event(2))
    assert drained.stats() == AuditStats(0, 1, 0, 1)
    with down_store(tmp_path) as (store, _):
        stuck = make_sink(store, retry_for=SLOW, flush_interval=0.01)
        stuck.write(event(3))
        stuck.write(event(4))
        assert not stuck.close(0.3)
        wait_for(lambda: stuck.stats().queue_depth == 0)
    assert stuck.stats() == AuditStats(0, 0, 2, 0)


def test_the_writer_thread_ends_when_idle_and_a_later_event_starts_another(
    make_sink: Callable[..., AsyncStoreSink],
) -> None:
    store = MemoryStore()
    sink = make_sink(store, idle_exit=0.05, flush_interval=0.01)
    sink.write(event(1))
    wait_for(lambda: sink._thread is None)
    sink.write(event(2))
    assert sink.flush(5.0)
    assert stored_ids(store) == ["req-1", "req-2"]


def test_the_audit_log_adds_up_its_store_sinks_and_flushes_them(
    make_sink: Callable[..., AsyncStoreSink],
) -> None:
    first, second, memory = MemoryStore(), MemoryStore(), MemorySink()
    log = AuditLog(make_sink(first, flush_interval=SLOW), memory,
                   make_sink(second, flush_interval=SLOW, queue_size=1))  # fmt: skip
    for n in range(3):
        log.record(event(n))
    queued = log.stats()
    assert log.flush(5.0)
    assert (queued, log.stats(), log.lost()) == (
        AuditStats(4, 0, 0, 2), AuditStats(0, 4, 0, 2), 2,
    )  # fmt: skip
    assert (stored_ids(first), stored_ids(second), len(memory.events)) == (
        ["req-0", "req-1", "req-2"], ["req-0"], 3,
    )  # fmt: skip
