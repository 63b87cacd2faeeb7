"""`StoreSink`: events land in the store; a storage fault is logged and counted, never raised."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.audit import (
    AuditEvent,
    AuditLog,
    AuditStats,
    MemorySink,
    StoreSink,
    redact,
    to_record,
)
from bridge.storage.audit_records import AuditRecord
from bridge.storage.interfaces import Store
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE = "arn:aws:sts::123456789012:assumed-role/Dev/alice"


def _event(
    parameters: dict[str, object] | None = None, details: dict[str, object] | None = None
) -> AuditEvent:
    return AuditEvent(
        T0,
        "AssumeRoleWithSAML",
        "success",
        "req-1",
        ALICE,
        parameters=parameters or {},
        details=details or {},
    )


def _stored(store: Store) -> list[AuditRecord]:
    with store.transaction() as uow:
        return uow.audit.query(since=None, until=None, principal=None, event=None, limit=100)


@pytest.mark.parametrize(
    ("parameters", "details", "expected_parameters", "expected_details"),
    [
        ({}, {}, {}, {}),
        (
            redact({"RoleArn": "arn:aws:iam::123456789012:role/Dev", "SAMLAssertion": "PHNhbWw+"}),
            {"roles": ["Dev"]},
            {"RoleArn": "arn:aws:iam::123456789012:role/Dev", "SAMLAssertion": "***"},
            {"roles": ["Dev"]},
        ),
        ({"DurationSeconds": 900}, {"at": T0}, {"DurationSeconds": 900}, {"at": str(T0)}),
    ],
    ids=["empty", "redacted-secret-stays-redacted", "non-json-values-as-text"],
)
def test_events_are_stored_with_json_parameters_and_details(
    parameters: dict[str, object],
    details: dict[str, object],
    expected_parameters: dict[str, object],
    expected_details: dict[str, object],
) -> None:
    store = MemoryStore()
    sink = StoreSink(store)
    sink.write(_event(parameters, details))
    [record] = _stored(store)
    assert (json.loads(record.parameters), json.loads(record.details)) == (
        expected_parameters,
        expected_details,
    )
    assert (record.principal, record.request_id, sink.stats()) == (
        ALICE,
        "req-1",
        AuditStats(written=1),
    )


def test_to_record_keeps_every_field() -> None:
    event = AuditEvent(
        T0, "ConsoleLogin", "failure", "r", ALICE, "192.0.2.1", "curl/8", "AccessDenied", "no"
    )
    record = to_record(event)
    kept = (record.source_ip, record.user_agent, record.error_code, record.error_message)
    assert kept == ("192.0.2.1", "curl/8", "AccessDenied", "no")
    assert (record.time, record.event_name, record.result) == (T0, "ConsoleLogin", "failure")


def _unmigrated_sqlite(tmp_path: Path) -> tuple[Store, Callable[[StoreSink], None]]:
    store = SqlStore(f"sqlite:///{tmp_path / 'empty.db'}")
    return store, lambda sink: sink.write(_event())


def _inside_a_memory_transaction(_tmp_path: Path) -> tuple[Store, Callable[[StoreSink], None]]:
    store = MemoryStore()

    def write_nested(sink: StoreSink) -> None:
        with store.transaction():
            sink.write(_event())

    return store, write_nested


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (_unmigrated_sqlite, "StorageUnavailable"),
        (_inside_a_memory_transaction, "RuntimeError"),
    ],
    ids=["table-missing", "nested-memory-transaction"],
)
def test_a_storage_fault_is_logged_and_counted_never_raised(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[Path], tuple[Store, Callable[[StoreSink], None]]],
    cause: str,
) -> None:
    store, write = make(tmp_path)
    sink = StoreSink(store)
    with caplog.at_level(logging.ERROR, logger="bridge.audit.store"):
        write(sink)
        write(sink)
    store.close()
    assert (sink.failures, sink.stats()) == (2, AuditStats(written=0, failed=2))
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "audit event AssumeRoleWithSAML `req-1` not stored"
    ] * 2
    assert all(cause in r.getMessage() for r in caplog.records)


def test_other_sinks_still_receive_the_event_when_storage_fails(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'empty.db'}")
    memory, failing = MemorySink(), StoreSink(store)
    AuditLog(failing, memory).record(_event())
    store.close()
    assert ([e.request_id for e in memory.events], failing.failures) == (["req-1"], 1)
