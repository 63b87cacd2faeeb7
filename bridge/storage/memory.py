"""An in-memory `Store` for unit tests and `memory://` development runs.

One re-entrant lock guards everything. A transaction holds the lock from start to
end and works on a copy of the state, which replaces the committed state only when
the block ends normally: an exception leaves nothing behind. Records are frozen, so
copying the containers is enough.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from bridge.clock import Clock, SystemClock
from bridge.storage.audit_records import AuditRepository
from bridge.storage.interfaces import (
    AccessKeyRepository,
    AccountRepository,
    AttachmentRepository,
    Group,
    InlinePolicyRepository,
    KeyRingRepository,
    LoginProfileRepository,
    ManagedPolicy,
    MembershipRepository,
    MFADeviceRepository,
    NamedRepository,
    OIDCProviderRepository,
    PolicyVersionRepository,
    RevocationRepository,
    Role,
    SAMLProviderRepository,
    UnitOfWork,
    User,
)
from bridge.storage.memory_audit import MemoryAudit
from bridge.storage.memory_generation import directory_changed
from bridge.storage.memory_repos import (
    AccessKeys,
    AccountRepo,
    Attachments,
    Inline,
    KeyRing,
    Memberships,
    MFADevices,
    Named,
    Profiles,
    Providers,
    Revocations,
    State,
    Versions,
)
from bridge.storage.memory_service_access import MemoryServiceAccess
from bridge.storage.report_jobs import MemoryReportJobs, ReportJobRepository
from bridge.storage.service_access import ServiceAccessRepository

_SWEEP_EVERY = 1024


class _MemoryUnit:
    """The repositories over one transaction's working copy."""

    def __init__(self, state: State) -> None:
        self.account: AccountRepository = AccountRepo(state)
        self.users: NamedRepository[User] = Named(
            state.users, lambda u: u.user_id, "user", state.forget_principal
        )
        self.groups: NamedRepository[Group] = Named(
            state.groups, lambda g: g.group_id, "group", state.forget_principal
        )
        self.roles: NamedRepository[Role] = Named(
            state.roles, lambda r: r.role_id, "role", state.forget_principal
        )
        self.policies: NamedRepository[ManagedPolicy] = Named(
            state.policies, lambda p: p.policy_id, "policy", state.forget_policy
        )
        self.policy_versions: PolicyVersionRepository = Versions(state)
        self.memberships: MembershipRepository = Memberships(state)
        self.attachments: AttachmentRepository = Attachments(state)
        self.inline_policies: InlinePolicyRepository = Inline(state)
        self.access_keys: AccessKeyRepository = AccessKeys(state)
        self.login_profiles: LoginProfileRepository = Profiles(state)
        self.mfa_devices: MFADeviceRepository = MFADevices(state)
        self.saml_providers: SAMLProviderRepository = Providers(
            state.saml, lambda p: p.arn, "saml provider"
        )
        self.oidc_providers: OIDCProviderRepository = Providers(
            state.oidc, lambda p: p.arn, "oidc provider"
        )
        self.key_ring: KeyRingRepository = KeyRing(state)
        self.revocations: RevocationRepository = Revocations(state)
        self.audit: AuditRepository = MemoryAudit(state.audit)
        self.service_access: ServiceAccessRepository = MemoryServiceAccess(state.service_access)
        self.report_jobs: ReportJobRepository = MemoryReportJobs(state.report_jobs)


class MemoryStore:
    """A `Store` held in this process. Transactions run one at a time."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._state = State()
        self._active = False
        self._once: dict[str, datetime] = {}
        self._once_writes = 0
        self._generation = 0

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        with self._lock:
            if self._active:
                raise RuntimeError("nested transactions are not supported by the memory store")
            work = self._state.copy()
            self._active = True
            try:
                yield _MemoryUnit(work)
            finally:
                self._active = False
            if directory_changed(self._state, work):
                self._generation += 1
            self._state = work

    def directory_generation(self) -> int:
        with self._lock:
            return self._generation

    @property
    def directory_writes(self) -> int:
        return self._generation

    def use_once(self, key: str, expires_at: datetime) -> bool:
        with self._lock:
            now = self._clock.now()
            held = self._once.get(key)
            if held is not None and held > now:
                return False
            self._once[key] = expires_at
            self._sweep(now)
            return True

    def _sweep(self, now: datetime) -> None:
        self._once_writes += 1
        if self._once_writes % _SWEEP_EVERY == 0:
            self._once = {k: v for k, v in self._once.items() if v > now}

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to release."""
