"""Revoke temporary credentials before they expire: one session, or every session of a
role or user issued before a time (what the IAM console's "revoke active sessions" does
with an `aws:TokenIssueTime` deny, here as a rule checked at authentication).

Rules live in the database (`UnitOfWork.revocations`), so every instance sharing it
sees them. Each instance keeps the active rules in memory and re-reads them when
they are older than `ttl` (1 second by default): a revocation made at one instance
takes effect at every other within about a second, and at the revoking instance at
once. A rule expires when every session it could refuse has expired
(`MAX_SESSION_SECONDS` after it was made), so the list stays short.

When the database cannot be read, the last list read is used for at most
`stale_limit` (5 minutes by default) after it was read, so decisions on valid
session tokens go on through a database restart; the failure is logged, and the
refresh is retried at most once per `ttl`, so requests do not each wait on a dead
database. Past `stale_limit` (or with no list read yet) authentication fails closed
with `StorageUnavailable`. A revocation made while the database is down cannot be
recorded at all (the revoking call fails), so the stale list misses no rule that
was ever acknowledged.

Rules that can no longer refuse anything are purged, in the refresh's own
transaction, by the first refresh of each process and then at most once per
`PURGE_INTERVAL` (one hour); `purge()` remains for the CLI.

Authentication depends only on the `RevocationCheck` protocol, so a Redis-backed
list can replace this one without touching `authz/`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bridge.clock import Clock
from bridge.credentials.tokens import SessionClaims
from bridge.errors import StorageUnavailable
from bridge.storage.interfaces import Revocation, Store

MAX_SESSION_SECONDS = 129600  # the longest GetSessionToken / GetFederationToken session
DEFAULT_TTL = timedelta(seconds=1)
DEFAULT_STALE_LIMIT = timedelta(minutes=5)
PURGE_INTERVAL = timedelta(hours=1)

_log = logging.getLogger("bridge.revocation")


class RevocationCheck(Protocol):
    def revoked_by(self, claims: SessionClaims, *, now: datetime) -> Revocation | None:
        """The rule that refuses this session, or None when it may be used."""
        ...


@dataclass(frozen=True)
class _Snapshot:
    loaded_at: datetime
    sessions: dict[str, Revocation] = field(default_factory=dict)
    principals: dict[str, Revocation] = field(default_factory=dict)  # the latest cut each


class Revocations:
    """Store-backed revocation rules with a short in-process cache."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        ttl: timedelta = DEFAULT_TTL,
        stale_limit: timedelta = DEFAULT_STALE_LIMIT,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._stale_limit = stale_limit
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._added = 0  # rules this process added (see `_add`)
        self._attempted_at: datetime | None = None  # the last refresh tried, even failed
        self._purged_at: datetime | None = None
        self.refresh_failures = 0

    def revoke_session(self, session_id: str, *, expires_at: datetime | None = None) -> Revocation:
        """Refuse one session, named by its access key id (`ASIA…`) or its token id.
        `expires_at`: the session's expiration when known, so the rule can go with it."""
        now = self._clock.now()
        until = expires_at or now + timedelta(seconds=MAX_SESSION_SECONDS)
        return self._add(Revocation("session", session_id, now, until))

    def revoke_principal(
        self, principal_id: str, *, issued_before: datetime | None = None
    ) -> Revocation:
        """Refuse every session of a role (`AROA…`) or user (`AIDA…`) issued before
        `issued_before` (default: now); sessions issued later are not affected."""
        now = self._clock.now()
        cut = issued_before or now
        until = max(now, cut) + timedelta(seconds=MAX_SESSION_SECONDS)
        return self._add(Revocation("principal", principal_id, now, until, not_before=cut))

    def purge(self) -> int:
        """Delete the rules that can no longer refuse anything; return how many."""
        with self._store.transaction() as uow:
            return uow.revocations.purge(self._clock.now())

    def revoked_by(self, claims: SessionClaims, *, now: datetime) -> Revocation | None:
        snapshot = self._current(now)
        for session_id in (claims.access_key_id, claims.token_id):
            rule = snapshot.sessions.get(session_id)
            if rule is not None and rule.expires_at > now:
                return rule
        rule = snapshot.principals.get(claims.subject_id)
        if rule is not None and rule.not_before is not None and claims.issued_at < rule.not_before:
            return rule
        return None

    def _add(self, rule: Revocation) -> Revocation:
        with self._store.transaction() as uow:
            uow.revocations.add(rule)
        with self._lock:
            self._snapshot = None  # this instance sees its own rule at once
            self._added += 1  # and a read that began before it must not put back an older list
        return rule

    def _current(self, now: datetime) -> _Snapshot:
        with self._lock:
            snapshot, attempted = self._snapshot, self._attempted_at
            if (
                snapshot is not None
                and attempted is not None
                and _within(now, attempted, self._ttl)
            ):
                return snapshot
            self._attempted_at = now
            added = self._added
        purge = self._purge_due(now)
        try:
            with self._store.transaction() as uow:
                rules = uow.revocations.active(now)
                purged = uow.revocations.purge(now) if purge else 0
        except StorageUnavailable as exc:
            return self._stale(snapshot, now, exc)
        if purged:
            _log.info("purged %d expired revocation rules", purged)
        fresh = _index(rules, now)
        with self._lock:
            if self._added == added:
                self._snapshot = fresh
            else:
                self._attempted_at = None  # read again: this list may predate a local rule
        return fresh

    def _stale(
        self, snapshot: _Snapshot | None, now: datetime, exc: StorageUnavailable
    ) -> _Snapshot:
        """The last list read while it is younger than `stale_limit`, else fail closed."""
        with self._lock:
            self.refresh_failures += 1
        if snapshot is None or not _within(now, snapshot.loaded_at, self._stale_limit):
            _log.error("revocation list unavailable, refusing session tokens: %s", exc.message)
            raise exc
        _log.warning(
            "revocation list not refreshed (using the one read at %s): %s",
            snapshot.loaded_at.isoformat(),
            exc.message,
        )
        return snapshot

    def _purge_due(self, now: datetime) -> bool:
        """True at most once per `PURGE_INTERVAL` per process (the first refresh included):
        the refresh then purges in its own transaction, so no extra round trip."""
        with self._lock:
            if self._purged_at is not None and _within(now, self._purged_at, PURGE_INTERVAL):
                return False
            self._purged_at = now
        return True


def _within(now: datetime, since: datetime, span: timedelta) -> bool:
    return timedelta(0) <= now - since < span


def _index(rules: list[Revocation], now: datetime) -> _Snapshot:
    snapshot = _Snapshot(now)
    for rule in rules:
        if rule.kind == "session":
            snapshot.sessions[rule.subject] = rule
        elif rule.kind == "principal" and rule.not_before is not None:
            latest = snapshot.principals.get(rule.subject)
            if latest is None or (latest.not_before or rule.not_before) < rule.not_before:
                snapshot.principals[rule.subject] = rule
    return snapshot
