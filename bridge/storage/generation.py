"""The directory generation in SQL: which transactions change the directory, and the counter.

A session is marked "directory changed" by SQLAlchemy session events, not by the
repositories, so a write path added later cannot forget it: every inserted, deleted
or changed row and every bulk `INSERT`/`UPDATE`/`DELETE` (or raw statement) counts,
except in the tables listed in `UNTRACKED_TABLES` (audit, one-time keys, browser
sessions, service last accessed, report jobs, revocations, which never change an
authorization outcome or a credential lookup), and except an update that changes
only the usage columns of `USAGE_COLUMNS` (last-used times and the MFA counter,
written on sign-ins and key uses). `SqlStore.transaction` then bumps the one row of
`directory_generation` in the same transaction, just before it commits.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import Connection, event, select, update
from sqlalchemy import inspect as inspect_row
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from bridge.storage.models import DirectoryGenerationRow

UNTRACKED_TABLES = frozenset(
    {
        "audit_events",
        "service_last_accessed",
        "one_time_keys",
        "report_jobs",
        "browser_sessions",
        "revocations",
        "directory_generation",
    }
)
USAGE_COLUMNS: dict[str, frozenset[str]] = {
    "access_keys": frozenset({"last_used_at", "last_used_service", "last_used_region"}),
    "users": frozenset({"password_last_used"}),
    "roles": frozenset({"last_used_at", "last_used_region"}),
    "mfa_devices": frozenset({"last_counter"}),
}
DIRTY = "bridge.directory_changed"
_ROW = 1


def track_directory_changes(sessions: sessionmaker[Session]) -> None:
    """Mark `session.info[DIRTY]` on every session `sessions` makes that changes the directory."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "do_orm_execute", _on_execute)


def directory_changed(session: Session) -> bool:
    """Whether the session changed the directory (call after its last flush)."""
    return bool(session.info.get(DIRTY))


def bump(session: Session) -> None:
    """Add one to the generation, in the session's transaction (creating the row if absent)."""
    row = DirectoryGenerationRow
    raised = update(row).where(row.id == _ROW).values(generation=row.generation + 1)
    result: Any = session.execute(raised, execution_options={"synchronize_session": False})
    if result.rowcount == 0:
        session.add(DirectoryGenerationRow(id=_ROW, generation=1))
        session.flush()


def read(connection: Connection) -> int:
    """The current generation (0 when the row is absent, e.g. right after a truncate)."""
    query = select(DirectoryGenerationRow.generation).where(DirectoryGenerationRow.id == _ROW)
    found = connection.execute(query).scalar()
    return int(found) if found is not None else 0


def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if session.info.get(DIRTY):
        return
    created_or_deleted = chain(session.new, session.deleted)
    if any(_table(obj) not in UNTRACKED_TABLES for obj in created_or_deleted):
        session.info[DIRTY] = True
        return
    if any(_changes_directory(obj) for obj in session.dirty):
        session.info[DIRTY] = True


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select or state.session.info.get(DIRTY):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table is None or table not in UNTRACKED_TABLES:
        state.session.info[DIRTY] = True


def _table(obj: object) -> str:
    return str(getattr(obj, "__tablename__", ""))


def _changes_directory(obj: object) -> bool:
    table = _table(obj)
    if table in UNTRACKED_TABLES:
        return False
    usage = USAGE_COLUMNS.get(table, frozenset())
    changed = {attr.key for attr in inspect_row(obj).attrs if attr.history.has_changes()}
    return bool(changed - usage)
