"""Engine set-up: SQLite pragmas on every connection, PostgreSQL schema names checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bridge.errors import InvalidInput
from bridge.storage.engine import checked_schema, make_engine


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("foreign_keys", 1), ("journal_mode", "wal"), ("busy_timeout", 2500)],
    ids=["foreign-keys", "wal", "busy-timeout"],
)
def test_sqlite_connections_are_configured(tmp_path: Path, pragma: str, expected: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", connect_timeout=2.5)
    try:
        with engine.connect() as connection:
            assert connection.execute(text(f"PRAGMA {pragma}")).scalar() == expected
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "name", ["bridge_test_0a1b", "_x", "a" * 63], ids=["typical", "underscore", "longest"]
)
def test_plain_schema_names_are_accepted(name: str) -> None:
    assert checked_schema(name) == name


@pytest.mark.parametrize(
    "name",
    ["Bridge", "1abc", "a-b", 'x"; drop', "", "a" * 64],
    ids=["upper-case", "leading-digit", "dash", "injection", "empty", "too-long"],
)
def test_other_schema_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        checked_schema(name)
    assert raised.value.field == "schema"


@pytest.mark.parametrize(
    ("url", "schema", "field"),
    [
        ("sqlite://", "bridge", "schema"),
        ("mysql+pymysql://u@h/db", None, "database_url"),
    ],
    ids=["schema-on-sqlite", "unsupported-dialect"],
)
def test_make_engine_refuses(url: str, schema: str | None, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        make_engine(url, schema=schema)
    assert raised.value.field == field
