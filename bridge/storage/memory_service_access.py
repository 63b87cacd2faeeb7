"""The in-memory service last accessed repository (see `bridge.storage.service_access`)."""

from __future__ import annotations

from collections.abc import Collection

from bridge.storage.service_access import ServiceAccess


class MemoryServiceAccess:
    def __init__(self, records: dict[tuple[str, str], ServiceAccess]) -> None:
        self._records = records

    def record(self, access: ServiceAccess) -> None:
        key = (access.entity_id, access.namespace)
        kept = self._records.get(key)
        if kept is None or kept.last_authenticated <= access.last_authenticated:
            self._records[key] = access

    def list_for(self, entity_ids: Collection[str]) -> list[ServiceAccess]:
        wanted = set(entity_ids)
        return [self._records[key] for key in sorted(self._records) if key[0] in wanted]
