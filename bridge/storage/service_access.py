"""Service last accessed from decisions: when a user or role last used a service namespace.

`/v1/authorize` records, per entity (user id `AIDA…` or role id `AROA…`) and service
namespace (`items`, `s3`), the last time an authenticated request of that entity was
decided, with the entity's ARN and the region then. `GenerateServiceLastAccessedDetails`
reads these records (IAM User Guide, "Refining permissions using last accessed
information": "last authenticated" is the last attempt, allowed or not).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ServiceAccess:
    entity_id: str
    namespace: str
    entity_arn: str
    last_authenticated: datetime
    region: str | None = None


class ServiceAccessRepository(Protocol):
    def record(self, access: ServiceAccess) -> None:
        """Keep `access` for its (entity id, namespace) unless a later one is kept already."""
        ...

    def list_for(self, entity_ids: Collection[str]) -> list[ServiceAccess]:
        """The records of these entities, ordered by entity id then namespace."""
        ...
