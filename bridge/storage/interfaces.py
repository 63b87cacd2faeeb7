"""What the directory needs from a store: records and repositories.

Records are frozen dataclasses holding plain values (no ORM objects escape a
store). Every write happens inside `Store.transaction()`: either all of it lands
or none of it does. Names of users, groups, roles and managed policies are unique
case-insensitively, as in IAM, and keep the case they were created with.

Relations are keyed by entity id (`AIDA…`, `AGPA…`, `AROA…`, `ANPA…`), so renaming
an entity never touches its memberships, attachments, keys or inline policies.

Repositories raise `bridge.errors.AlreadyExists` on a duplicate key and
`bridge.errors.NotFound` when updating or removing something absent; they do not
enforce IAM's business rules (quotas, delete conflicts): that is the directory's job.
Lists are ordered by name (or by key/creation time where stated) so that
pagination is stable.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from bridge.storage.audit_records import AuditRepository
from bridge.storage.report_jobs import ReportJobRepository
from bridge.storage.service_access import ServiceAccessRepository


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class Account:
    account_id: str
    root_password_hash: str
    created_at: datetime
    root_mfa_serial: str | None = None
    password_policy: str | None = None  # JSON of the account password policy, None = IAM default


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    path: str
    created_at: datetime
    permissions_boundary_arn: str | None = None
    password_last_used: datetime | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class Group:
    group_id: str
    name: str
    path: str
    created_at: datetime


@dataclass(frozen=True)
class Role:
    role_id: str
    name: str
    path: str
    trust_policy: str
    created_at: datetime
    description: str = ""
    max_session_duration: int = 3600
    permissions_boundary_arn: str | None = None
    last_used_at: datetime | None = None
    last_used_region: str | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class ManagedPolicy:
    policy_id: str
    name: str
    path: str
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class PolicyVersion:
    policy_id: str
    version_id: str  # "v1", "v2", ...
    document: str
    created_at: datetime


@dataclass(frozen=True)
class InlinePolicy:
    principal_id: str  # a user, group or role id
    name: str
    document: str


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str  # AKIA…
    user_id: str | None  # None for a root account key
    secret_sealed: bytes  # the secret, encrypted by the key ring
    status: str  # "Active" | "Inactive"
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True)
class LoginProfile:
    user_id: str
    password_hash: str
    created_at: datetime
    password_reset_required: bool = False
    password_changed_at: datetime | None = None


@dataclass(frozen=True)
class MFADevice:
    serial_number: str  # arn:aws:iam::<account>:mfa/<path><name>
    name: str
    path: str
    seed_sealed: bytes
    created_at: datetime
    user_id: str | None = None  # None until enabled; "root" for the root account
    enabled_at: datetime | None = None
    last_counter: int | None = None  # the last TOTP time step accepted (no reuse)
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class SAMLProvider:
    arn: str
    name: str
    metadata_document: str
    created_at: datetime
    valid_until: datetime | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class OIDCProvider:
    arn: str
    url: str
    created_at: datetime
    client_ids: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class KeyRecord:
    """One key of the key ring, sealed with the master key."""

    key_id: str
    purpose: str  # "data" (secrets at rest), "token" (session tokens), ...
    sealed_key: bytes
    created_at: datetime
    status: str = "active"  # "active" (newest signs/encrypts) | "retired" (opens only)


@dataclass(frozen=True)
class Revocation:
    """A rule refusing temporary credentials before they expire.

    `kind` "session": `subject` is one session's token id or access key id (`ASIA…`).
    `kind` "principal": `subject` is a role or user id; its sessions issued before
    `not_before` are refused. The rule can be dropped after `expires_at`, when every
    session it could refuse has expired anyway.
    """

    kind: str  # "session" | "principal"
    subject: str
    created_at: datetime
    expires_at: datetime
    not_before: datetime | None = None  # "principal" rules only


E = TypeVar("E")


class NamedRepository(Protocol[E]):
    """Users, groups, roles and managed policies: keyed by id, unique by name."""

    def get(self, entity_id: str) -> E | None: ...

    def by_name(self, name: str) -> E | None:
        """Case-insensitive lookup, as IAM names are unique regardless of case."""
        ...

    def list(self, path_prefix: str = "/") -> list[E]:
        """Entities whose path starts with `path_prefix`, ordered by name."""
        ...

    def add(self, entity: E) -> None: ...

    def update(self, entity: E) -> None: ...

    def remove(self, entity_id: str) -> None: ...


class MembershipRepository(Protocol):
    def add(self, group_id: str, user_id: str) -> None: ...

    def remove(self, group_id: str, user_id: str) -> None: ...

    def groups_of(self, user_id: str) -> list[str]:
        """Group ids, in the order they were joined."""
        ...

    def users_of(self, group_id: str) -> list[str]:
        """User ids, in the order they joined."""
        ...


class AttachmentRepository(Protocol):
    """Managed policies attached to users, groups and roles (by their ids)."""

    def attach(self, principal_id: str, policy_id: str) -> None: ...

    def detach(self, principal_id: str, policy_id: str) -> None: ...

    def policies_of(self, principal_id: str) -> list[str]:
        """Policy ids, in attachment order."""
        ...

    def principals_of(self, policy_id: str) -> list[str]: ...


class PolicyVersionRepository(Protocol):
    def add(self, version: PolicyVersion) -> None: ...

    def get(self, policy_id: str, version_id: str) -> PolicyVersion | None: ...

    def list(self, policy_id: str) -> list[PolicyVersion]:
        """Ordered by creation (v1 first)."""
        ...

    def remove(self, policy_id: str, version_id: str) -> None: ...


class InlinePolicyRepository(Protocol):
    def put(self, policy: InlinePolicy) -> None:
        """Create or replace (IAM's Put*Policy semantics)."""
        ...

    def get(self, principal_id: str, name: str) -> InlinePolicy | None: ...

    def list(self, principal_id: str) -> list[InlinePolicy]:
        """Ordered by name."""
        ...

    def remove(self, principal_id: str, name: str) -> None: ...


class AccessKeyRepository(Protocol):
    def add(self, key: AccessKey) -> None: ...

    def get(self, access_key_id: str) -> AccessKey | None: ...

    def list_for(self, user_id: str | None) -> list[AccessKey]:
        """A user's keys (None: the root account's), ordered by creation."""
        ...

    def update(self, key: AccessKey) -> None: ...

    def remove(self, access_key_id: str) -> None: ...


class LoginProfileRepository(Protocol):
    def get(self, user_id: str) -> LoginProfile | None: ...

    def add(self, profile: LoginProfile) -> None: ...

    def update(self, profile: LoginProfile) -> None: ...

    def remove(self, user_id: str) -> None: ...


class MFADeviceRepository(Protocol):
    def add(self, device: MFADevice) -> None: ...

    def get(self, serial_number: str) -> MFADevice | None: ...

    def list(self, user_id: str | None = None) -> list[MFADevice]:
        """All devices (user_id None) or one user's, ordered by serial number."""
        ...

    def update(self, device: MFADevice) -> None: ...

    def remove(self, serial_number: str) -> None: ...


class SAMLProviderRepository(Protocol):
    def add(self, provider: SAMLProvider) -> None: ...

    def get(self, arn: str) -> SAMLProvider | None: ...

    def list(self) -> list[SAMLProvider]: ...

    def update(self, provider: SAMLProvider) -> None: ...

    def remove(self, arn: str) -> None: ...


class OIDCProviderRepository(Protocol):
    def add(self, provider: OIDCProvider) -> None: ...

    def get(self, arn: str) -> OIDCProvider | None: ...

    def list(self) -> list[OIDCProvider]: ...

    def update(self, provider: OIDCProvider) -> None: ...

    def remove(self, arn: str) -> None: ...


class AccountRepository(Protocol):
    def get(self) -> Account | None: ...

    def put(self, account: Account) -> None:
        """Create or replace the one account of this deployment."""
        ...


class KeyRingRepository(Protocol):
    def add(self, record: KeyRecord) -> None: ...

    def list(self, purpose: str) -> list[KeyRecord]:
        """Ordered by creation time, oldest first."""
        ...

    def update(self, record: KeyRecord) -> None: ...


class RevocationRepository(Protocol):
    def add(self, revocation: Revocation) -> None:
        """Record a rule; equal rules may be recorded more than once."""
        ...

    def active(self, now: datetime) -> list[Revocation]:
        """Rules with `expires_at` after `now`, ordered by creation time."""
        ...

    def purge(self, now: datetime) -> int:
        """Delete the rules with `expires_at` at or before `now`; return how many."""
        ...


class UnitOfWork(Protocol):
    """The repositories, bound to one transaction."""

    account: AccountRepository
    users: NamedRepository[User]
    groups: NamedRepository[Group]
    roles: NamedRepository[Role]
    policies: NamedRepository[ManagedPolicy]
    policy_versions: PolicyVersionRepository
    memberships: MembershipRepository
    attachments: AttachmentRepository
    inline_policies: InlinePolicyRepository
    access_keys: AccessKeyRepository
    login_profiles: LoginProfileRepository
    mfa_devices: MFADeviceRepository
    saml_providers: SAMLProviderRepository
    oidc_providers: OIDCProviderRepository
    key_ring: KeyRingRepository
    revocations: RevocationRepository
    audit: AuditRepository
    service_access: ServiceAccessRepository
    report_jobs: ReportJobRepository


class OneTimeUse(Protocol):
    """Atomic one-time-use keys (assertion ids, token ids, OIDC state and nonce)."""

    def use_once(self, key: str, expires_at: datetime) -> bool:
        """Record `key` until `expires_at`. True the first time, False on any later call
        before it expires. Atomic across processes sharing the store."""
        ...


class Store(OneTimeUse, Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """Commit when the block ends normally, roll back on any exception."""
        ...

    def ping(self) -> None:
        """Raise `StorageUnavailable` when the store cannot be reached."""
        ...

    def directory_generation(self) -> int:
        """A counter that changes with every committed transaction that changed the
        directory (anything but audit, service last accessed, report jobs, revocations,
        one-time keys, browser sessions, and last-used times alone), in every process
        sharing the store. Raise `StorageUnavailable` when it cannot be read."""
        ...

    @property
    def directory_writes(self) -> int:
        """How many such transactions went through this store object (no database read),
        so this process sees its own changes at once."""
        ...

    def close(self) -> None: ...
