"""Sign-in throttling per user name, kept in the browser-session repository.

Each failed password or MFA code for a user name (lower-cased, hashed) counts; from
the 5th failure within 15 minutes the name is locked for 30 s, doubling with every
further failure up to 15 minutes. While locked, even the right password is refused
(without being checked). A success clears the count. The lock is per name, whether
or not the user exists, so it reveals nothing about which names exist.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from bridge.clock import Clock
from bridge.storage.browser_sessions import BrowserSessionRecord, BrowserSessionRepository

FREE_FAILURES = 4
FIRST_LOCK_SECONDS = 30
MAX_LOCK = timedelta(minutes=15)
WINDOW = timedelta(minutes=15)


class SignInThrottle:
    def __init__(self, repo: BrowserSessionRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def locked_until(self, user_name: str) -> datetime | None:
        """When the lock on this name ends, or None when it may try now."""
        record = self._repo.get(_key(user_name))
        if record is None:
            return None
        until = datetime.fromisoformat(json.loads(record.payload)["locked_until"])
        return until if until > self._clock.now() else None

    def failed(self, user_name: str) -> int:
        """Count one failure; returns the failures counted within the window."""
        now = self._clock.now()
        key = _key(user_name)
        record = self._repo.get(key)
        failures = 1 + (int(json.loads(record.payload)["failures"]) if record else 0)
        lock = _lock_for(failures)
        payload = {"failures": failures, "locked_until": (now + lock).isoformat()}
        self._repo.put(
            BrowserSessionRecord(
                key=key,
                payload=json.dumps(payload),
                created_at=record.created_at if record else now,
                last_seen_at=now,
                expires_at=now + max(WINDOW, lock),
            )
        )
        return failures

    def succeeded(self, user_name: str) -> None:
        self._repo.remove(_key(user_name))


def _lock_for(failures: int) -> timedelta:
    if failures <= FREE_FAILURES:
        return timedelta(0)
    seconds = FIRST_LOCK_SECONDS * 2 ** min(failures - FREE_FAILURES - 1, 10)
    return min(timedelta(seconds=seconds), MAX_LOCK)


def _key(user_name: str) -> str:
    return hashlib.sha256(f"sign-in-throttle:{user_name.lower()}".encode()).hexdigest()
