"""A bounded, expiring, thread-safe cache of decisions for bearer-token callers.

Only bearer callers are cached. A bearer token is the whole credential: the bridge
answers for that exact token, so the same token asking the same question may get the
same answer back for a short while. A SigV4 caller is different: each request carries
its own signature over its own method, path, headers, body and time, and only the
bridge (which holds the secret) can check it. Caching by access key id would let any
request naming that key id, with any signature or none, reuse an earlier "allowed":
signature verification would be skipped. So SigV4 callers are never cached.

An entry lives until the earlier of `max_age` seconds after it was stored and the
expiration of the principal's session. The default `max_age` of 1 s matches the bridge's
own revocation propagation (revocation rules are re-read about once a second), so a
revoked session is refused by the service about as soon as the bridge itself refuses it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")
CacheKey = tuple[str, str, str, str]
Clock = Callable[[], float]
"""Seconds since the epoch (wall time: it is compared with session expirations)."""


def cache_key(
    token: str, action: str, resource: str, context: Mapping[str, object] | None
) -> CacheKey:
    """sha256 of the token (the token itself is never kept), action, resource, context."""
    canonical = json.dumps(context or {}, sort_keys=True, separators=(",", ":"))
    return (hashlib.sha256(token.encode()).hexdigest(), action, resource, canonical)


class DecisionCache(Generic[V]):
    """An LRU of at most `max_size` entries, each expiring at its own deadline."""

    def __init__(self, max_size: int, max_age: float, *, clock: Clock = time.time) -> None:
        if max_size < 0 or max_age < 0:
            raise ValueError("cache `max_size` and `max_age` must not be negative")
        self._max_size = max_size
        self._max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self._max_size > 0 and self._max_age > 0

    def get(self, key: CacheKey) -> V | None:
        """The stored value, or None when absent or expired (an expired entry is dropped)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            deadline, value = entry
            if now >= deadline:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: CacheKey, value: V, *, expires_at: float | None = None) -> None:
        """Store until `max_age` from now, or `expires_at` (epoch seconds) when earlier."""
        if not self.enabled:
            return
        now = self._clock()
        deadline = now + self._max_age
        if expires_at is not None:
            deadline = min(deadline, expires_at)
        if deadline <= now:
            return
        with self._lock:
            self._entries[key] = (deadline, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
