"""Audit events as stored records, and the repository that keeps them.

An `AuditRecord` is the stored form of `bridge.audit.AuditEvent`: the request
parameters (already redacted by the caller) and the details are JSON text, so a
store never needs to know their shape. Events are append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AuditRecord:
    time: datetime
    event_name: str
    result: str  # "success" | "failure"
    request_id: str
    principal: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    parameters: str = "{}"  # JSON object, secrets already replaced
    details: str = "{}"  # JSON object


class AuditRepository(Protocol):
    def add(self, record: AuditRecord) -> None:
        """Append one event; equal events may be recorded more than once."""
        ...

    def add_many(self, records: Sequence[AuditRecord]) -> None:
        """Append events in the order given, as one statement where the backend can."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete the events older than `before` (retention); return how many went."""
        ...

    def query(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        principal: str | None,
        event: str | None,
        limit: int,
    ) -> list[AuditRecord]:
        """At most `limit` events, newest first (ties: the last recorded first).

        `since` is inclusive and `until` exclusive; `principal` and `event` (the
        event name) match exactly; None leaves a filter out.
        """
        ...
