"""Service last accessed from decisions: which user or role used which service, and when.

`/v1/authorize` reports every decision on an authenticated caller here, allowed or
denied: IAM's "last authenticated" is the last attempt by an authenticated principal
(IAM User Guide, "Refining permissions in AWS using last accessed information"). The
entity is the IAM user (its keys, a GetSessionToken or GetFederationToken session) or
the role (a role session); the root account is not tracked.

Writes are throttled per process: at most one per entity and namespace per `interval`,
so a busy principal costs one small write a minute, not one per decision. A storage
fault is logged and counted in `failures`, never raised: a decision must not fail
because last-accessed data cannot be written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from datetime import datetime, timedelta

from bridge.authz.principal import Caller
from bridge.errors import BridgeError
from bridge.storage.interfaces import Store
from bridge.storage.service_access import ServiceAccess

DEFAULT_INTERVAL = timedelta(seconds=60)
_MAX_REMEMBERED = 100_000

log = logging.getLogger("bridge.authz.last_access")


def tracked_entity(caller: Caller) -> tuple[str, str] | None:
    """(entity id, entity ARN) whose last access a decision on `caller` updates, if any."""
    if caller.is_root:
        return None
    session = caller.session
    if session is None:
        return (caller.principal_id, caller.arn) if caller.kind == "user" else None
    return session.subject_id, session.subject_arn


class LastAccess:
    def __init__(
        self, store: Store, *, interval: timedelta = DEFAULT_INTERVAL, logger: logging.Logger = log
    ) -> None:
        self._store = store
        self._interval = interval
        self._logger = logger
        self._written: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()
        self.failures = 0

    def record(self, caller: Caller, action: str, *, now: datetime, region: str | None) -> bool:
        """Note that `caller` attempted `action` at `now`; True when it was written."""
        entity = tracked_entity(caller)
        namespace = action.partition(":")[0].lower()
        if entity is None or not namespace or not self._due((entity[0], namespace), now):
            return False
        access = ServiceAccess(entity[0], namespace, entity[1], now, region or None)
        try:
            with self._store.transaction() as uow:
                uow.service_access.record(access)
        except (BridgeError, RuntimeError) as exc:  # RuntimeError: a nested memory transaction
            self._failed((entity[0], namespace), exc)
            return False
        return True

    def uses(self, entity_ids: Collection[str]) -> list[ServiceAccess]:
        """What is recorded for these users and roles (ids), by entity then namespace."""
        with self._store.transaction() as uow:
            return uow.service_access.list_for(entity_ids)

    def _due(self, key: tuple[str, str], now: datetime) -> bool:
        with self._lock:
            last = self._written.get(key)
            if last is not None and now - last < self._interval:
                return False
            if len(self._written) >= _MAX_REMEMBERED:
                self._written.clear()
            self._written[key] = now
            return True

    def _failed(self, key: tuple[str, str], exc: Exception) -> None:
        with self._lock:
            self.failures += 1  # the throttle stays: a down store is not retried per decision
        self._logger.error(
            "service last accessed of `%s` for `%s` not stored: %s: %s",
            key[0],
            key[1],
            type(exc).__name__,
            exc,
        )
