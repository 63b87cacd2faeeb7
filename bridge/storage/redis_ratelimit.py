"""Fixed-window request counters in Redis for the rate limiter (`bridge/ratelimit.py`).

`INCR bridge:rate:<key>:<window>` and `EXPIRE` in one pipeline: every instance sharing
the Redis server counts into the same window. A Redis fault raises `StorageUnavailable`;
the rate limiter decides what that means (it fails open).
"""

from __future__ import annotations

import redis
from redis.exceptions import RedisError

from bridge.errors import StorageUnavailable

PREFIX = "bridge:rate:"
# KEYS: the counters in order; ARGV[1]: their lifetime; ARGV[i+1]: the limit of KEYS[i].
# Returns the 1-based index of the first counter past its limit (later ones are not
# counted), or 0.
_UNTIL = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[1])
  if count > tonumber(ARGV[i + 1]) then return i end
end
return 0
"""


class RedisWindowCounter:
    def __init__(self, url: str, *, prefix: str = PREFIX, timeout: float = 1.0) -> None:
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._until = self._client.register_script(_UNTIL)

    def increment(self, key: str, window: int, ttl_seconds: int) -> int:
        """Add one to `key` in `window` and return the count; the key lives `ttl_seconds`."""
        return self.increment_many([key], window, ttl_seconds)[0]

    def increment_many(self, keys: list[str], window: int, ttl_seconds: int) -> list[int]:
        """`increment` for several keys in one round trip (one pipeline, no MULTI: an
        EXPIRE that follows its INCR is all the consistency a window count needs)."""
        try:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                name = f"{self._prefix}{key}:{window}"
                pipe.incr(name)
                pipe.expire(name, ttl_seconds)
            replies = pipe.execute()
        except RedisError as exc:
            raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc
        return [int(count) for count in replies[::2]]

    def increment_until(
        self, keys: list[str], limits: list[int], window: int, ttl_seconds: int
    ) -> int | None:
        """Count each key in turn, stopping at the first one past its limit (whose index
        is returned; None when none is): one round trip, a Lua script run atomically."""
        names = [f"{self._prefix}{key}:{window}" for key in keys]
        try:
            over = self._until(keys=names, args=[ttl_seconds, *limits])
        except RedisError as exc:
            raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc
        return None if int(over) == 0 else int(over) - 1

    def close(self) -> None:
        self._client.close()
