"""The SQL service last accessed repository (see `bridge.storage.service_access`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.storage.models import ServiceAccessRow
from bridge.storage.service_access import ServiceAccess
from bridge.storage.sql_repos import flush, to_record, values_of


class SqlServiceAccess:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, access: ServiceAccess) -> None:
        row = self._session.get(ServiceAccessRow, (access.entity_id, access.namespace))
        if row is None:
            self._session.add(ServiceAccessRow(**values_of(access)))
        elif row.last_authenticated <= access.last_authenticated:
            row.entity_arn = access.entity_arn
            row.last_authenticated = access.last_authenticated
            row.region = access.region
        flush(self._session, f"service last accessed `{access.entity_id}` `{access.namespace}`")

    def list_for(self, entity_ids: Collection[str]) -> list[ServiceAccess]:
        if not entity_ids:
            return []
        row = ServiceAccessRow
        query = (
            select(row)
            .where(row.entity_id.in_(list(entity_ids)))
            .order_by(row.entity_id, row.namespace)
        )
        found = [to_record(ServiceAccess, r) for r in self._session.scalars(query)]
        return sorted(found, key=lambda a: (a.entity_id, a.namespace))
