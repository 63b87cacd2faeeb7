"""Revoke temporary credentials before they expire: one session, or every session of a
role or user issued before a time (what the IAM console's "revoke active sessions" does
with an `aws:TokenIssueTime` deny, here as a rule checked at authentication).

Rules live in the database (`UnitOfWork.revocations`), so every instance sharing it
sees them. Each instance keeps the active rules in memory and re-reads them when
they are older than `ttl` (1 second by default): a revocation made at one instance
takes effect at every other within about a second, and at the revoking instance at
once. A rule expires when every session it could refuse has expired
(`MAX_SESSION_SECONDS` after it was made), so the list stays short.

Authentication depends only on the `RevocationCheck` protocol, so a Redis-backed
list can replace this one without touching `authz/`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bridge.clock import Clock
from bridge.credentials.tokens import SessionClaims
from bridge.storage.interfaces import Revocation, Store

MAX_SESSION_SECONDS = 129600  # the longest GetSessionToken / GetFederationToken session
DEFAULT_TTL = timedelta(seconds=1)


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

    def __init__(self, store: Store, *, clock: Clock, ttl: timedelta = DEFAULT_TTL) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

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
        return rule

    def _current(self, now: datetime) -> _Snapshot:
        with self._lock:
            snapshot = self._snapshot
        if snapshot is not None and timedelta(0) <= now - snapshot.loaded_at < self._ttl:
            return snapshot
        with self._store.transaction() as uow:
            rules = uow.revocations.active(now)
        fresh = _index(rules, now)
        with self._lock:
            self._snapshot = fresh
        return fresh


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
