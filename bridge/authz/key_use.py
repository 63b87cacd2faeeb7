"""Last use of long-term access keys, written at most once per key per minute per process.

Every request signed with a long-term key used to write the key's last-used time,
service and region: one database write per request. IAM's own `LastUsedDate` is
approximate (IAM User Guide, "Managing access keys": it is reported with a delay and
rounded), so a minute per process is as good and costs one write a minute per busy
key. A storage fault is logged and counted in `failures`, never raised: a request
must not fail because last-used data cannot be written (as `last_access.LastAccess`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from bridge.directory.keys import AccessKeys
from bridge.errors import BridgeError

DEFAULT_INTERVAL = timedelta(seconds=60)
_MAX_REMEMBERED = 100_000

_log = logging.getLogger("bridge.authz.key_use")


class KeyUse:
    def __init__(
        self,
        keys: AccessKeys,
        *,
        interval: timedelta = DEFAULT_INTERVAL,
        logger: logging.Logger = _log,
    ) -> None:
        self._keys = keys
        self._interval = interval
        self._logger = logger
        self._written: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.failures = 0

    def record(self, access_key_id: str, service: str, region: str, *, now: datetime) -> bool:
        """Note a use of `access_key_id` at `now`; True when it was written."""
        if not self._due(access_key_id, now):
            return False
        try:
            self._keys.record_use(access_key_id, service, region)
        except (BridgeError, RuntimeError) as exc:  # RuntimeError: a nested memory transaction
            with self._lock:
                self.failures += 1  # the throttle stays: a down store is not retried per request
            self._logger.error(
                "last use of access key `%s` not stored: %s: %s",
                access_key_id,
                type(exc).__name__,
                exc,
            )
            return False
        return True

    def _due(self, access_key_id: str, now: datetime) -> bool:
        with self._lock:
            last = self._written.get(access_key_id)
            if last is not None and timedelta(0) <= now - last < self._interval:
                return False
            if len(self._written) >= _MAX_REMEMBERED:
                self._written.clear()
            self._written[access_key_id] = now
            return True
