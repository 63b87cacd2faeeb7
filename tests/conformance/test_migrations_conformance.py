"""The Alembic migrations build exactly the schema the models describe, on every SQL backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conformance_backends import PostgresSchema, sqlite_url
from sqlalchemy import Engine, inspect

from bridge.storage import migrate
from bridge.storage.engine import make_engine
from bridge.storage.models import Base


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a database migrated to head; the engine sees its schema only."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        engine = make_engine(url)
    else:
        pg: PostgresSchema = request.getfixturevalue("postgres_schema")
        url, engine = pg.url, make_engine(pg.url, schema=pg.schema)
    yield url, engine
    engine.dispose()


def test_models_and_migrations_agree(migrated: tuple[str, Engine]) -> None:
    _url, engine = migrated
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences: list[Any] = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_model_table_exists_after_upgrade(migrated: tuple[str, Engine]) -> None:
    _url, engine = migrated
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_sqlite_revision_moves_from_none_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    before = (migrate.current(url), migrate.is_current(url))
    migrate.upgrade(url)
    migrate.upgrade(url)  # a second upgrade is a no-op
    assert (before, migrate.current(url), migrate.is_current(url)) == (
        (None, False),
        migrate.head(),
        True,
    )


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    from alembic import command

    url = sqlite_url(tmp_path)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
