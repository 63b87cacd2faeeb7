"""`bridge audit query`: stored events, filtered, newest first, as text or JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.audit_cli import audit
from bridge.bootstrap import initialise_home
from bridge.clock import FixedClock
from bridge.settings import load_settings
from bridge.storage import open_store
from bridge.storage.audit_records import AuditRecord

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
ALICE = "arn:aws:sts::123456789012:assumed-role/Dev/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/Ops/bob"


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


EVENTS = [
    AuditRecord(_ago(60 * 24 * 3), "AssumeRoleWithSAML", "success", "old", ALICE),
    AuditRecord(_ago(45), "AssumeRoleWithSAML", "success", "bob-45m", BOB, "192.0.2.9"),
    AuditRecord(
        _ago(20),
        "AssumeRoleWithSAML",
        "failure",
        "alice-20m",
        ALICE,
        error_code="AccessDenied",
        error_message="role `Ops` does not trust `alice`\nforged line",
        parameters='{"SAMLAssertion": "***"}',
    ),
    AuditRecord(_ago(5), "GetCallerIdentity", "success", "alice-5m", ALICE),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "home"
    initialise_home(path, account_id="123456789012", force=False, environ={})
    store = open_store(load_settings(path, environ={}).effective_database_url)
    try:
        with store.transaction() as uow:
            for record in EVENTS:
                uow.audit.add(record)
    finally:
        store.close()
    return path


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        audit, ["query", "--home", str(home), *args], obj={"clock": FixedClock(NOW)}
    )
    return result.exit_code, result.output


def _ids(output: str) -> list[str]:
    return [line.split()[5] for line in output.splitlines()]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["alice-5m", "alice-20m", "bob-45m", "old"]),
        (("--since", "1h"), ["alice-5m", "alice-20m", "bob-45m"]),
        (("--since", "30m"), ["alice-5m", "alice-20m"]),
        (("--since", "7d", "--until", "1h"), ["old"]),
        (("--since", "2026-03-08T11:30:00Z"), ["alice-5m", "alice-20m"]),
        (("--since", "2026-03-08T11:30:00"), ["alice-5m", "alice-20m"]),
        (("--until", "2026-03-08T11:40:00+00:00"), ["bob-45m", "old"]),
        (("--principal", ALICE), ["alice-5m", "alice-20m", "old"]),
        (("--event", "GetCallerIdentity"), ["alice-5m"]),
        (("--principal", ALICE, "--event", "AssumeRoleWithSAML"), ["alice-20m", "old"]),
        (("--limit", "2"), ["alice-5m", "alice-20m"]),
        (("--principal", "arn:aws:iam::123456789012:user/nobody"), []),
    ],
    ids=[
        "all",
        "since-1h",
        "since-30m",
        "since-7d-until-1h",
        "since-iso-z",
        "since-iso-naive-is-utc",
        "until-iso-offset",
        "principal",
        "event",
        "principal-and-event",
        "limit",
        "no-match",
    ],
)
def test_query_filters_newest_first(home: Path, args: tuple[str, ...], expected: list[str]) -> None:
    code, output = _run(home, *args)
    assert (code, _ids(output)) == (0, expected)


def test_text_line_shows_the_event_on_one_line(home: Path) -> None:
    _code, output = _run(home, "--since", "30m", "--event", "AssumeRoleWithSAML")
    assert output.splitlines() == [
        "2026-03-08T11:40:00Z AssumeRoleWithSAML failure "
        f"{ALICE} - alice-20m AccessDenied: role `Ops` does not trust `alice`\\nforged line"
    ]


def test_json_lines_carry_every_field(home: Path) -> None:
    code, output = _run(home, "--format", "json", "--since", "1h", "--limit", "2")
    lines = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    assert [line["request_id"] for line in lines] == ["alice-5m", "alice-20m"]
    failure = lines[1]
    assert failure["time"] == _ago(20).isoformat()
    assert (failure["parameters"], failure["details"]) == ({"SAMLAssertion": "***"}, {})
    assert (failure["error_code"], failure["principal"]) == ("AccessDenied", ALICE)


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (("--since", "yesterday"), "--since", "yesterday"),
        (("--since", "5w"), "--since", "5w"),
        (("--until", "2026-13-01"), "--until", "2026-13-01"),
    ],
    ids=["since-word", "since-unknown-unit", "until-bad-month"],
)
def test_a_bad_time_names_the_option(
    home: Path, args: tuple[str, ...], option: str, value: str
) -> None:
    code, output = _run(home, *args)
    assert code == 2
    assert f"Invalid value for {option}: " in output
    assert f"`{value}`" in output


@pytest.mark.parametrize(
    "args", [("--limit", "0"), ("--format", "xml")], ids=["limit-zero", "unknown-format"]
)
def test_bad_limit_or_format_is_a_usage_error(home: Path, args: tuple[str, ...]) -> None:
    code, _output = _run(home, *args)
    assert code == 2


def test_purge_keeps_what_the_retention_needs(tmp_path: Path) -> None:
    path = tmp_path / "home"
    initialise_home(path, account_id="123456789012", force=False, environ={})
    store = open_store(load_settings(path, environ={}).effective_database_url)
    try:
        with store.transaction() as uow:
            uow.audit.add_many(EVENTS)
    finally:
        store.close()
    clock = {"clock": FixedClock(NOW)}
    result = CliRunner().invoke(audit, ["purge", "--home", str(path), "--before", "1d"], obj=clock)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deleted 1 audit events older than ")
    remaining = CliRunner().invoke(audit, ["query", "--home", str(path)], obj=clock)
    assert "old" not in _ids(remaining.output)
    assert len(_ids(remaining.output)) == 3
    bad = CliRunner().invoke(audit, ["purge", "--home", str(path), "--before", "soon"], obj=clock)
    assert bad.exit_code != 0
    assert "--before" in bad.output
