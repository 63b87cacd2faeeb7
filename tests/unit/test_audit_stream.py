"""`audit_stream`: the audit JSON lines go to their own file or stream, one event per line."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.audit import AuditEvent, LoggingSink
from bridge.logging_setup import AUDIT_LOGGER, configure_audit_stream


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    configure_audit_stream(None, Path("."))


def _event() -> AuditEvent:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    return AuditEvent(time=now, event_name="CreateUser", result="success", request_id="r-1")


def test_file_stream_gets_bare_json_lines_owner_only(tmp_path: Path) -> None:
    path = configure_audit_stream("audit/events.jsonl", tmp_path)
    assert path == tmp_path / "audit" / "events.jsonl"
    LoggingSink().write(_event())
    LoggingSink().write(_event())
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event_name"] for line in lines] == ["CreateUser", "CreateUser"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert logging.getLogger(AUDIT_LOGGER).propagate is False


def test_stdout_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert configure_audit_stream("stdout", tmp_path) is None
    LoggingSink().write(_event())
    assert json.loads(capsys.readouterr().out)["request_id"] == "r-1"


def test_default_keeps_audit_lines_with_the_logs(tmp_path: Path) -> None:
    configure_audit_stream("x.jsonl", tmp_path)
    assert configure_audit_stream(None, tmp_path) is None
    audit = logging.getLogger(AUDIT_LOGGER)
    assert audit.propagate is True
    assert not audit.handlers


def test_in_the_logs_an_audit_line_carries_the_event_as_an_object() -> None:
    from bridge.logging_setup import JsonFormatter

    record = logging.LogRecord(AUDIT_LOGGER, logging.INFO, "x", 1, _event().to_json(), None, None)
    record.request_id = "r-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == AUDIT_LOGGER
    assert line["request_id"] == "r-1"
    assert line["message"]["event_name"] == "CreateUser"
    odd = logging.LogRecord(AUDIT_LOGGER, logging.INFO, "x", 1, "not json", None, None)
    assert json.loads(JsonFormatter().format(odd))["message"] == "not json"
