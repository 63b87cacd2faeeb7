"""`open_store` picks the backend from the URL; `migrate` treats `memory://` as current."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import InvalidInput
from bridge.storage import migrate, open_store
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("memory://", MemoryStore),
        ("sqlite:///{tmp}/a.db", SqlStore),
        ("sqlite://", SqlStore),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", SqlStore),
    ],
    ids=["memory", "sqlite-file", "sqlite-memory", "postgres-not-connected-yet"],
)
def test_open_store_picks_the_backend(url: str, kind: type, tmp_path: Path) -> None:
    store = open_store(url.format(tmp=tmp_path))
    try:
        assert type(store) is kind
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("mysql://root@localhost/db", "database_url"),
        ("no-scheme", "database_url"),
        ("postgresql://u@h/db", "database_url"),
    ],
    ids=["mysql", "no-scheme", "postgres-without-psycopg-driver"],
)
def test_open_store_refuses_other_schemes(url: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        open_store(url)
    assert raised.value.field == field
    assert f"`{url.split('://', maxsplit=1)[0]}`" in raised.value.message or "://" not in url


def test_memory_url_is_always_migrated() -> None:
    migrate.upgrade("memory://")
    assert (migrate.current("memory://"), migrate.is_current("memory://")) == (
        migrate.head(),
        True,
    )
