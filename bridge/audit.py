"""Structured audit events (CloudTrail-like), written as JSON lines.

Every sign-in, issuance and refusal is an event. Secrets never enter an event:
request parameters pass through `redact()` first. Sinks are pluggable; the default
writes one JSON object per line to the `bridge.audit` logger; `StoreSink` keeps them in
the database for `bridge audit query`, one transaction per event, and
`bridge.audit_writer.AsyncStoreSink` (what `bridge serve` uses) does so in batches from
a writer thread, so a request never waits for the audit store.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bridge.errors import BridgeError
from bridge.storage.audit_records import AuditRecord
from bridge.storage.interfaces import Store

SECRET_PARAMETERS = frozenset(
    {
        "samlassertion",
        "webidentitytoken",
        "password",
        "oldpassword",
        "newpassword",
        "secretaccesskey",
        "sessiontoken",
        "tokencode",
        "authenticationcode1",
        "authenticationcode2",
        "policy",
    }
)


@dataclass(frozen=True)
class AuditEvent:
    time: datetime
    event_name: str  # e.g. AssumeRoleWithSAML, CreateUser, ConsoleLogin
    result: str  # "success" | "failure"
    request_id: str
    principal: str | None = None  # the caller's ARN, or the federated subject
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """One JSON object (a plain dict of the fields: `asdict` deep-copies, and this runs
        for every request)."""
        record = {name: getattr(self, name) for name in _FIELDS}
        record["time"] = self.time.isoformat()
        record["parameters"] = dict(self.parameters)
        record["details"] = dict(self.details)
        return json.dumps(record, sort_keys=True, default=str)


_FIELDS = tuple(f.name for f in fields(AuditEvent))


class AuditSink(Protocol):
    def write(self, event: AuditEvent) -> None: ...


@dataclass(frozen=True)
class AuditStats:
    """What the store sinks did with the events they were given since the process started."""

    queue_depth: int = 0  # queued or being written
    written: int = 0
    failed: int = 0  # the store refused them or stayed down past the retry bound
    dropped: int = 0  # the queue was full, or the sink closed

    @property
    def lost(self) -> int:
        return self.failed + self.dropped

    def __add__(self, other: AuditStats) -> AuditStats:
        return AuditStats(
            self.queue_depth + other.queue_depth,
            self.written + other.written,
            self.failed + other.failed,
            self.dropped + other.dropped,
        )


@runtime_checkable
class CountingSink(Protocol):
    """A sink that stores events and counts what it did (`StoreSink`, `AsyncStoreSink`)."""

    def write(self, event: AuditEvent) -> None: ...

    def stats(self) -> AuditStats: ...

    def flush(self, timeout: float = 5.0) -> bool: ...

    def close(self, timeout: float = 10.0) -> bool: ...


class LoggingSink:
    """JSON lines on the `bridge.audit` logger (its handlers decide where they go)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("bridge.audit")

    def write(self, event: AuditEvent) -> None:
        if self._logger.isEnabledFor(logging.INFO):  # no JSON made for a line nobody keeps
            self._logger.info(event.to_json())


class MemorySink:
    """Keeps events in a list (tests, and `bridge` commands that print what happened)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def write(self, event: AuditEvent) -> None:
        with self._lock:
            self.events.append(event)


class StoreSink:
    """Stores each event in its own transaction of `store`.

    A storage fault is logged and counted in `failures`, never raised: a decision
    must not fail because audit storage is down. Parameters are stored as given, so
    callers pass them through `redact()` first.
    """

    def __init__(self, store: Store, logger: logging.Logger | None = None) -> None:
        self._store = store
        self._logger = logger or logging.getLogger("bridge.audit.store")
        self._lock = threading.Lock()
        self.failures = 0
        self.written = 0

    def write(self, event: AuditEvent) -> None:
        try:
            with self._store.transaction() as uow:
                uow.audit.add(to_record(event))
        except (BridgeError, RuntimeError) as exc:  # RuntimeError: a nested memory transaction
            self._failed(event, exc)
            return
        with self._lock:
            self.written += 1

    def stats(self) -> AuditStats:
        with self._lock:
            return AuditStats(written=self.written, failed=self.failures)

    def flush(self, timeout: float = 5.0) -> bool:  # noqa: ARG002 - nothing to wait for
        """Nothing is ever pending: each event was stored (or counted) in `write`."""
        return True

    def close(self, timeout: float = 10.0) -> bool:  # noqa: ARG002 - nothing to wait for
        return True

    def _failed(self, event: AuditEvent, exc: Exception) -> None:
        with self._lock:
            self.failures += 1
        self._logger.error(
            "audit event %s `%s` not stored: %s: %s",
            event.event_name,
            event.request_id,
            type(exc).__name__,
            exc,
        )


def to_record(event: AuditEvent) -> AuditRecord:
    """The stored form: parameters and details as JSON text (keys sorted)."""
    return AuditRecord(
        time=event.time,
        event_name=event.event_name,
        result=event.result,
        request_id=event.request_id,
        principal=event.principal,
        source_ip=event.source_ip,
        user_agent=event.user_agent,
        error_code=event.error_code,
        error_message=event.error_message,
        parameters=json.dumps(dict(event.parameters), sort_keys=True, default=str),
        details=json.dumps(dict(event.details), sort_keys=True, default=str),
    )


class AuditLog:
    def __init__(self, *sinks: AuditSink) -> None:
        self._sinks = sinks or (LoggingSink(),)

    def record(self, event: AuditEvent) -> None:
        for sink in self._sinks:
            sink.write(event)

    def lost(self) -> int:
        """Events a store sink could not keep since the process started (refused by the
        store, or dropped because its queue was full)."""
        return self.stats().lost

    def stats(self) -> AuditStats:
        """The store sinks' counts added up (the queue depth, written, failed, dropped)."""
        total = AuditStats()
        for sink in self._counting():
            total += sink.stats()
        return total

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is stored or counted lost; False on timeout."""
        deadline = time.monotonic() + timeout
        done = True
        for sink in self._counting():
            done = sink.flush(max(deadline - time.monotonic(), 0.0)) and done
        return done

    def close(self, timeout: float = 10.0) -> bool:
        """Drain (up to `timeout` seconds) and stop the store sinks; left events are lost."""
        deadline = time.monotonic() + timeout
        done = True
        for sink in self._counting():  # every sink, even after one timed out
            done = sink.close(max(deadline - time.monotonic(), 0.0)) and done
        return done

    def _counting(self) -> list[CountingSink]:
        return [sink for sink in self._sinks if isinstance(sink, CountingSink)]


def redact(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters with every secret replaced, keys compared case-insensitively."""
    return {key: "***" if _is_secret(key) else value for key, value in parameters.items()}


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_PARAMETERS or lowered.endswith(("password", "secret", "token"))
