"""`AsyncStoreSink`: audit events stored in batches by one writer thread per process.

A request only appends its event to a bounded in-memory queue, so a decision or a
sign-in never waits for (or fails with) the audit store. The writer thread stores up to
`batch_size` events in one transaction, at the latest `flush_interval` seconds after the
first of them was queued. Every event is accounted for: `written + lost + depth` equals
the events handed in.

- The store is down: the batch in hand is retried with backoff for `retry_for` seconds
  while new events keep queueing; past that bound the batch is counted lost and logged.
- The store answers but refuses the batch (a value too long for its column): the events
  are stored one by one and only the refused ones are counted lost.
- The queue is full: the new event is counted lost and logged (never blocks).

The thread starts with the first event and ends after `idle_exit` seconds without one
(so an idle app holds no thread), and again after a fork. `flush()` drains the queue
(tests, the CLI, shutdown); `close()` drains then stops, counting what is left as lost.
An `atexit` hook drains sinks still open when the interpreter exits.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

from bridge.audit import AuditEvent, AuditStats, to_record
from bridge.errors import BridgeError
from bridge.storage.interfaces import Store

DROP_LOG_EVERY = 1000  # a full queue logs its first drop, then one line per this many


@dataclass(frozen=True)
class WriterPolicy:
    queue_size: int = 10_000
    batch_size: int = 500
    flush_interval: float = 0.2  # seconds from the first queued event to its batch's write
    retry_for: float = 30.0  # seconds a batch is retried while the store is down
    first_backoff: float = 0.05
    max_backoff: float = 2.0
    idle_exit: float = 5.0  # the writer thread ends after this long with nothing queued
    exit_timeout: float = 10.0  # how long the atexit hook waits for the queue to drain


class AsyncStoreSink:
    """Queues events for one writer thread that stores them in batches (see the module)."""

    def __init__(
        self, store: Store, policy: WriterPolicy | None = None, logger: logging.Logger | None = None
    ) -> None:
        self._store = store
        self.policy = policy or WriterPolicy()
        self._logger = logger or logging.getLogger("bridge.audit.store")
        self._cond = threading.Condition()
        self._queue: deque[AuditEvent] = deque()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._in_flight = 0
        self._flushers = 0
        self._closed = False
        self._written = self._failed = self._dropped = 0
        atexit.register(_drain_at_exit, weakref.ref(self))

    def write(self, event: AuditEvent) -> None:
        """Queue `event`; when the queue is full or the sink closed it is counted lost."""
        with self._cond:
            if self._closed or len(self._queue) >= self.policy.queue_size:
                self._dropped += 1
                self._log_drop(event)
                return
            self._queue.append(event)
            if len(self._queue) in (1, self.policy.batch_size):  # no longer idle, or full
                self._cond.notify_all()
            self._ensure_writer()

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> AuditStats:
        with self._cond:
            depth = len(self._queue) + self._in_flight
            return AuditStats(depth, self._written, self._failed, self._dropped)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is stored or counted lost; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushers += 1
            self._cond.notify_all()
            try:
                while self._queue or self._in_flight:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._ensure_writer()
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushers -= 1

    def close(self, timeout: float = 10.0) -> bool:
        """Drain for up to `timeout` seconds, then stop; events left are counted lost."""
        drained = self.flush(timeout)
        with self._cond:
            self._closed = True
            left = len(self._queue)
            self._queue.clear()
            self._failed += left
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        self._stop.set()
        if left:
            self._logger.error("audit: %d queued events not stored at close (lost)", left)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)
        return drained and not left

    def _ensure_writer(self) -> None:
        """Start the writer thread unless one runs (caller holds the lock)."""
        if self._closed or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._run, name="bridge-audit-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._store_batch(batch)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any fault
                self._lose(batch, exc)
            finally:
                with self._cond:
                    self._in_flight -= len(batch)
                    self._cond.notify_all()

    def _next_batch(self) -> list[AuditEvent] | None:
        """The next batch once it is full, due or asked for; None when idle or closed."""
        policy = self.policy
        with self._cond:
            idle_until = time.monotonic() + policy.idle_exit
            while not self._queue:
                remaining = idle_until - time.monotonic()
                if self._closed or remaining <= 0:
                    if self._thread is threading.current_thread():
                        self._thread = None
                    return None
                self._cond.wait(remaining)
            due = time.monotonic() + policy.flush_interval
            while len(self._queue) < policy.batch_size and not self._urgent():
                remaining = due - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = min(policy.batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight += count
            return batch

    def _urgent(self) -> bool:
        return self._flushers > 0 or self._closed

    def _store_batch(self, batch: list[AuditEvent]) -> None:
        """One transaction; while the store is down, retry with backoff up to the bound."""
        give_up = time.monotonic() + self.policy.retry_for
        backoff = self.policy.first_backoff
        while True:
            try:
                self._insert(batch)
                return
            except (BridgeError, RuntimeError) as exc:
                fault: Exception = exc
            if self._reachable():
                self._one_by_one(batch)
                return
            if time.monotonic() + backoff > give_up or self._stop.is_set():
                self._lose(batch, fault)
                return
            self._logger.warning(
                "audit: store down, retrying a batch of %d events in %.2f s: %s: %s",
                len(batch), backoff, type(fault).__name__, fault,
            )  # fmt: skip
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.policy.max_backoff)

    def _insert(self, batch: list[AuditEvent]) -> None:
        with self._store.transaction() as uow:
            uow.audit.add_many([to_record(event) for event in batch])
        with self._cond:
            self._written += len(batch)

    def _reachable(self) -> bool:
        try:
            self._store.ping()
        except BridgeError:
            return False
        return True

    def _one_by_one(self, batch: list[AuditEvent]) -> None:
        """The store answers but refused the batch: keep every event it accepts."""
        for event in batch:
            try:
                self._insert([event])
            except (BridgeError, RuntimeError) as exc:
                self._lose([event], exc)

    def _lose(self, batch: list[AuditEvent], exc: Exception) -> None:
        with self._cond:
            self._failed += len(batch)
        first, last = batch[0], batch[-1]
        self._logger.error(
            "audit: %d events not stored (lost), request ids `%s` to `%s`: %s: %s",
            len(batch), first.request_id, last.request_id, type(exc).__name__, exc,
        )  # fmt: skip

    def _log_drop(self, event: AuditEvent) -> None:
        if self._dropped == 1 or self._dropped % DROP_LOG_EVERY == 0:
            why = "the sink is closed" if self._closed else "the queue is full"
            self._logger.error(
                "audit: event %s `%s` dropped (lost) because %s; %d dropped so far",
                event.event_name, event.request_id, why, self._dropped,
            )  # fmt: skip


def _drain_at_exit(ref: weakref.ref[AsyncStoreSink]) -> None:
    sink = ref()
    if sink is not None and not sink.closed:
        sink.close(sink.policy.exit_timeout)
