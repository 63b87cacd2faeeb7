"""The in-memory audit repository (see `bridge.storage.audit_records`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bridge.storage.audit_records import AuditRecord


class MemoryAudit:
    """Events in recording order; queries sort newest first, the last recorded first."""

    def __init__(self, events: list[AuditRecord]) -> None:
        self._events = events

    def add(self, record: AuditRecord) -> None:
        self._events.append(record)

    def add_many(self, records: Sequence[AuditRecord]) -> None:
        self._events.extend(records)

    def purge(self, before: datetime) -> int:
        kept = [record for record in self._events if record.time >= before]
        removed = len(self._events) - len(kept)
        self._events[:] = kept
        return removed

    def query(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        principal: str | None,
        event: str | None,
        limit: int,
    ) -> list[AuditRecord]:
        ranked = sorted(enumerate(self._events), key=lambda p: (p[1].time, p[0]), reverse=True)
        newest_first = [record for _, record in ranked]
        chosen = [
            r
            for r in newest_first
            if (since is None or r.time >= since)
            and (until is None or r.time < until)
            and (principal is None or r.principal == principal)
            and (event is None or r.event_name == event)
        ]
        return chosen[: max(limit, 0)]
