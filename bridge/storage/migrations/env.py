"""Alembic environment: runs on the connection `bridge.storage.migrate` hands over.

SQLite cannot alter tables in place, so migrations run in batch mode there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bridge.storage.models import Base


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "run migrations through bridge.storage.migrate, which passes a connection"
        )
    run_on(connection)


main()
