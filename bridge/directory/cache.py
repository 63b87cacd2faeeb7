"""A per-process read cache for the decision path, expired by the directory generation.

What a decision reads from the directory (a principal's effective policies, users and
roles, access keys with their opened secret, SAML and OIDC providers) is kept in a
bounded LRU, each entry tagged with the directory generation read before it was
loaded (`Store.directory_generation`: a counter bumped in the same transaction as
every directory write, at any instance). The generation is re-read at most once per
`ttl` (1 second), and at once after a write through this process's store, so:

- a change made here is seen here at once;
- a change made at another instance is seen here within about a second. AWS IAM is
  itself eventually consistent ("changes that you make … are not always immediately
  visible", IAM User Guide, "Changes that I make are not always immediately
  visible"), with delays of seconds; a second is well inside that.

When the generation cannot be read (`StorageUnavailable`), the entries of the last
generation read are served for at most `stale_limit` (5 minutes, as for revocations)
after that read, so decisions on valid session tokens go on through a database
restart; a miss still needs the database and fails. Past `stale_limit` every read
fails closed with `StorageUnavailable`. No write can be made while the database is
down; what the stale entries can miss is a change made at another instance in the
second before the outage (until the database is back, at most `stale_limit`). After a
change made in this process the old entries are never served stale.

Entries hold opened access-key secrets: they live in this process's memory only and
are never logged (the records' `repr` hides them).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar, cast

from bridge.clock import Clock
from bridge.errors import StorageUnavailable
from bridge.storage.interfaces import Store

DEFAULT_TTL = timedelta(seconds=1)
DEFAULT_STALE_LIMIT = timedelta(minutes=5)
DEFAULT_MAX_ENTRIES = 4096

T = TypeVar("T")
_log = logging.getLogger("bridge.directory.cache")


@dataclass(frozen=True)
class _Known:
    generation: int
    read_at: datetime  # when the store last answered
    local_writes: int  # `store.directory_writes` when it was read


class DirectoryCache:
    """Thread-safe; one per `Directory` (so one per app and process)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        ttl: timedelta = DEFAULT_TTL,
        stale_limit: timedelta = DEFAULT_STALE_LIMIT,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._stale_limit = stale_limit
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
        self._known: _Known | None = None
        self._attempted_at: datetime | None = None
        self.hits = 0
        self.misses = 0
        self.refresh_failures = 0

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value cached under `key` for the current generation, else `load()`'s (kept
        unless it is None). Raises `StorageUnavailable` when the directory cannot be
        trusted (see the module docstring)."""
        generation = self._generation()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == generation:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, found[1])
            self.misses += 1
        value = load()
        if value is not None:
            self._put(key, generation, value)
        return value

    def clear(self) -> None:
        """Forget every entry and the generation (the next read goes to the store)."""
        with self._lock:
            self._entries.clear()
            self._known = None
            self._attempted_at = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _put(self, key: Hashable, generation: int, value: object) -> None:
        with self._lock:
            if self._known is None or self._known.generation != generation:
                return  # the generation moved on while loading: do not keep it
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def _generation(self) -> int:
        now = self._clock.now()
        writes = self._store.directory_writes
        with self._lock:
            known, attempted = self._known, self._attempted_at
            if known is not None and known.local_writes == writes:
                if _within(now, known.read_at, self._ttl):
                    return known.generation
                if attempted is not None and _within(now, attempted, self._ttl):
                    return self._stale(known, now, None)  # a refresh just failed: no retry yet
            self._attempted_at = now
        try:
            generation = self._store.directory_generation()
        except StorageUnavailable as exc:
            with self._lock:
                self.refresh_failures += 1
            if known is not None and known.local_writes != writes:
                known = None  # changed here since it was read: known to be out of date
            return self._stale(known, now, exc)
        with self._lock:
            if self._known is None or self._known.generation != generation:
                self._entries.clear()
            self._known = _Known(generation, now, writes)
        return generation

    def _stale(self, known: _Known | None, now: datetime, exc: StorageUnavailable | None) -> int:
        """The last generation read while it is younger than `stale_limit`, else fail closed.
        `exc`: the refresh that just failed (None: one failed less than `ttl` ago)."""
        if known is None or not _within(now, known.read_at, self._stale_limit):
            failure = exc or StorageUnavailable(
                "directory unavailable: the cache is older than the stale limit"
            )
            if exc is not None:
                _log.error("directory unavailable, refusing cached reads: %s", exc.message)
            raise failure
        if exc is not None:
            _log.warning(
                "directory generation not refreshed (serving the cache read at %s): %s",
                known.read_at.isoformat(),
                exc.message,
            )
        return known.generation


def _within(now: datetime, since: datetime, span: timedelta) -> bool:
    return timedelta(0) <= now - since < span
