"""One-time-use keys in Redis: `SET bridge:once:<key> 1 NX PX <ms left>`.

(`PX`, the time left until the expiry by the injected clock, so that a pinned clock
governs it as it does for the other stores.) Fail closed: when Redis cannot be
asked, `use_once` raises `StorageUnavailable` (503 at the edges) and never answers
True. A connection error is retried once on a fresh connection, so the pooled
connections a Redis restart cut do not each fail one request after it returns.
"""

from __future__ import annotations

import math
from datetime import datetime

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry

from bridge.clock import Clock, SystemClock
from bridge.errors import StorageUnavailable

PREFIX = "bridge:once:"


class RedisOneTimeUse:
    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        prefix: str = PREFIX,
        timeout: float = 5.0,
    ) -> None:
        self._clock = clock or SystemClock()
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # A pooled connection cut by a Redis restart fails once; try a fresh one.
            # A SET that landed before the cut then reads as used: refused, never accepted.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )

    def use_once(self, key: str, expires_at: datetime) -> bool:
        """True the first time; a key whose expiry has passed is already gone (True again).

        The time to live comes from the injected clock, so a `FixedClock` governs it.
        """
        ttl_ms = math.ceil((expires_at - self._clock.now()).total_seconds() * 1000)
        if ttl_ms <= 0:
            return True
        try:
            stored = self._client.set(self._prefix + key, b"1", nx=True, px=ttl_ms)
        except RedisError as exc:
            raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc
        return stored is True

    def ping(self) -> None:
        try:
            self._client.ping()
        except RedisError as exc:
            raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()
