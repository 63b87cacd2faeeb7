"""The SQL audit repository (see `bridge.storage.audit_records`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from bridge.errors import StorageUnavailable
from bridge.storage.audit_records import AuditRecord
from bridge.storage.models import AuditEventRow
from bridge.storage.sql_repos import flush, to_record, values_of


class SqlAudit:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: AuditRecord) -> None:
        self._session.add(AuditEventRow(**values_of(record)))
        try:
            flush(self._session, f"audit event `{record.request_id}`")
        except DataError as exc:  # a value longer than its column (PostgreSQL)
            raise StorageUnavailable(
                f"audit event `{record.request_id}` not stored: {type(exc.orig).__name__}"
            ) from exc

    def add_many(self, records: Sequence[AuditRecord]) -> None:
        """One multi-row INSERT (SQLAlchemy's insertmanyvalues), not one per event."""
        if not records:
            return
        try:
            self._session.execute(insert(AuditEventRow), [values_of(r) for r in records])
        except DataError as exc:
            raise StorageUnavailable(
                f"{len(records)} audit events not stored: {type(exc.orig).__name__}"
            ) from exc

    def purge(self, before: datetime) -> int:
        result = self._session.execute(delete(AuditEventRow).where(AuditEventRow.time < before))
        return int(getattr(result, "rowcount", 0) or 0)

    def query(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        principal: str | None,
        event: str | None,
        limit: int,
    ) -> list[AuditRecord]:
        row = AuditEventRow
        query = (
            select(row)
            .where(*_filters(since, until, principal, event))
            .order_by(row.time.desc(), row.seq.desc())
            .limit(max(limit, 0))
        )
        return [to_record(AuditRecord, found) for found in self._session.scalars(query)]


def _filters(
    since: datetime | None, until: datetime | None, principal: str | None, event: str | None
) -> list[ColumnElement[bool]]:
    row = AuditEventRow
    chosen: list[ColumnElement[bool]] = []
    if since is not None:
        chosen.append(row.time >= since)
    if until is not None:
        chosen.append(row.time < until)
    if principal is not None:
        chosen.append(row.principal == principal)
    if event is not None:
        chosen.append(row.event_name == event)
    return chosen
