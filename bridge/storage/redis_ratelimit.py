"""Fixed-window request counters in Redis for the rate limiter (`bridge/ratelimit.py`).

`INCR bridge:rate:<key>:<window>` and `EXPIRE` in one MULTI/EXEC pipeline: every instance sharing
the Redis server counts into the same window. A Redis fault raises `StorageUnavailable`;
the rate limiter decides what that means (it fails open).
"""

from __future__ import annotations

import redis
from redis.exceptions import RedisError

from bridge.errors import StorageUnavailable

PREFIX = "bridge:rate:"


class RedisWindowCounter:
    def __init__(self, url: str, *, prefix: str = PREFIX, timeout: float = 1.0) -> None:
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def increment(self, key: str, window: int, ttl_seconds: int) -> int:
        """Add one to `key` in `window` and return the count; the key lives `ttl_seconds`."""
        name = f"{self._prefix}{key}:{window}"
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, ttl_seconds)
            count, _ = pipe.execute()
        except RedisError as exc:
            raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc
        return int(count)

    def close(self) -> None:
        self._client.close()
