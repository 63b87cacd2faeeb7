"""Browser sessions in Redis: `SET bridge:session:<hash> <json> EX <seconds left>`.

The time to live comes from the injected clock (as in `redis_once.py`), rounded up
to whole seconds; the record also carries `expires_at`, checked on read, so a pinned
clock governs expiry exactly. Fail closed: a Redis fault raises `StorageUnavailable`.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

import redis
from redis.exceptions import RedisError

from bridge.clock import Clock, SystemClock
from bridge.errors import StorageUnavailable
from bridge.storage.browser_sessions import BrowserSessionRecord

PREFIX = "bridge:session:"


class RedisBrowserSessions:
    def __init__(
        self, url: str, *, clock: Clock | None = None, prefix: str = PREFIX, timeout: float = 5.0
    ) -> None:
        self._clock = clock or SystemClock()
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def get(self, key: str) -> BrowserSessionRecord | None:
        try:
            raw = self._client.get(self._prefix + key)
        except RedisError as exc:
            raise _unavailable(exc) from exc
        if not isinstance(raw, bytes):
            return None
        record = _decode(key, raw)
        return record if record.expires_at > self._clock.now() else None

    def put(self, record: BrowserSessionRecord) -> None:
        ttl = math.ceil((record.expires_at - self._clock.now()).total_seconds())
        try:
            if ttl <= 0:
                self._client.delete(self._prefix + record.key)
                return
            self._client.set(self._prefix + record.key, _encode(record), ex=ttl)
        except RedisError as exc:
            raise _unavailable(exc) from exc

    def remove(self, key: str) -> None:
        try:
            self._client.delete(self._prefix + key)
        except RedisError as exc:
            raise _unavailable(exc) from exc

    def purge(self) -> int:
        """Redis expires the keys itself."""
        return 0

    def close(self) -> None:
        self._client.close()


def _encode(record: BrowserSessionRecord) -> bytes:
    return json.dumps(
        {
            "payload": record.payload,
            "created_at": record.created_at.isoformat(),
            "last_seen_at": record.last_seen_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
        }
    ).encode()


def _decode(key: str, raw: bytes) -> BrowserSessionRecord:
    data = json.loads(raw)
    return BrowserSessionRecord(
        key=key,
        payload=str(data["payload"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        last_seen_at=datetime.fromisoformat(data["last_seen_at"]),
        expires_at=datetime.fromisoformat(data["expires_at"]),
    )


def _unavailable(exc: RedisError) -> StorageUnavailable:
    return StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}")
