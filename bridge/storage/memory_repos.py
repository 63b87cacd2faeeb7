"""The in-memory repositories: plain dicts and lists of frozen records.

`State` is what one `MemoryStore` holds; each transaction works on a `State.copy()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.audit_records import AuditRecord
from bridge.storage.interfaces import (
    AccessKey,
    Account,
    Group,
    InlinePolicy,
    KeyRecord,
    LoginProfile,
    ManagedPolicy,
    MFADevice,
    OIDCProvider,
    PolicyVersion,
    Revocation,
    Role,
    SAMLProvider,
    User,
)
from bridge.storage.ordering import (
    by_name,
    describe_attachment,
    describe_membership,
    version_order,
)
from bridge.storage.report_jobs import ReportJob
from bridge.storage.service_access import ServiceAccess


class _NamedRecord(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...


N = TypeVar("N", bound=_NamedRecord)
R = TypeVar("R")


@dataclass
class State:
    account: Account | None = None
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    policies: dict[str, ManagedPolicy] = field(default_factory=dict)
    versions: dict[tuple[str, str], PolicyVersion] = field(default_factory=dict)
    memberships: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[tuple[str, str]] = field(default_factory=list)
    inline: dict[tuple[str, str], InlinePolicy] = field(default_factory=dict)
    access_keys: dict[str, AccessKey] = field(default_factory=dict)
    profiles: dict[str, LoginProfile] = field(default_factory=dict)
    mfa: dict[str, MFADevice] = field(default_factory=dict)
    saml: dict[str, SAMLProvider] = field(default_factory=dict)
    oidc: dict[str, OIDCProvider] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    revocations: list[Revocation] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    service_access: dict[tuple[str, str], ServiceAccess] = field(default_factory=dict)
    report_jobs: dict[str, ReportJob] = field(default_factory=dict)

    def copy(self) -> State:
        copies = {name: value.copy() for name, value in vars(self).items() if name != "account"}
        return replace(self, **copies)

    def forget_principal(self, principal_id: str) -> None:
        """Drop the rows keyed by a removed user, group or role id."""
        self.memberships[:] = [m for m in self.memberships if principal_id not in m]
        self.attachments[:] = [a for a in self.attachments if a[0] != principal_id]
        for key in [k for k in self.inline if k[0] == principal_id]:
            del self.inline[key]
        self.profiles.pop(principal_id, None)
        for key_id in [k for k, v in self.access_keys.items() if v.user_id == principal_id]:
            del self.access_keys[key_id]

    def forget_policy(self, policy_id: str) -> None:
        self.attachments[:] = [a for a in self.attachments if a[1] != policy_id]
        for key in [k for k in self.versions if k[0] == policy_id]:
            del self.versions[key]


def _put_new(table: dict[str, R], key: str, record: R, kind: str) -> None:
    if key in table:
        raise AlreadyExists(f"{kind} `{key}` already exists")
    table[key] = record


def _replace(table: dict[str, R], key: str, record: R, kind: str) -> None:
    if key not in table:
        raise NotFound(f"{kind} `{key}` does not exist")
    table[key] = record


def _delete(table: dict[str, R], key: str, kind: str) -> None:
    if table.pop(key, None) is None:
        raise NotFound(f"{kind} `{key}` does not exist")


class Named(Generic[N]):
    def __init__(
        self,
        table: dict[str, N],
        ident: Callable[[N], str],
        kind: str,
        on_remove: Callable[[str], None],
    ) -> None:
        self._table = table
        self._ident = ident
        self._kind = kind
        self._on_remove = on_remove

    def get(self, entity_id: str) -> N | None:
        return self._table.get(entity_id)

    def by_name(self, name: str) -> N | None:
        wanted = name.lower()
        return next((e for e in self._table.values() if e.name.lower() == wanted), None)

    def list(self, path_prefix: str = "/") -> list[N]:
        return by_name(e for e in self._table.values() if e.path.startswith(path_prefix))

    def add(self, entity: N) -> None:
        self._check_name_free(entity)
        _put_new(self._table, self._ident(entity), entity, self._kind)

    def update(self, entity: N) -> None:
        if self._ident(entity) in self._table:
            self._check_name_free(entity)
        _replace(self._table, self._ident(entity), entity, self._kind)

    def remove(self, entity_id: str) -> None:
        _delete(self._table, entity_id, self._kind)
        self._on_remove(entity_id)

    def _check_name_free(self, entity: N) -> None:
        other = self.by_name(entity.name)
        if other is not None and self._ident(other) != self._ident(entity):
            raise AlreadyExists(f"{self._kind} named `{entity.name}` already exists")


class Pairs:
    """An ordered list of unique (left, right) pairs: memberships or attachments."""

    def __init__(self, pairs: list[tuple[str, str]], describe: Callable[[str, str], str]) -> None:
        self._pairs = pairs
        self._describe = describe

    def add(self, left: str, right: str) -> None:
        if (left, right) in self._pairs:
            raise AlreadyExists(f"{self._describe(left, right)} already exists")
        self._pairs.append((left, right))

    def remove(self, left: str, right: str) -> None:
        if (left, right) not in self._pairs:
            raise NotFound(f"{self._describe(left, right)} does not exist")
        self._pairs.remove((left, right))

    def rights(self, left: str) -> list[str]:
        return [r for lft, r in self._pairs if lft == left]

    def lefts(self, right: str) -> list[str]:
        return [lft for lft, r in self._pairs if r == right]


class Memberships:
    def __init__(self, state: State) -> None:
        self._state = state
        self._pairs = Pairs(state.memberships, describe_membership)

    def add(self, group_id: str, user_id: str) -> None:
        if group_id not in self._state.groups:
            raise NotFound(f"group `{group_id}` does not exist")
        if user_id not in self._state.users:
            raise NotFound(f"user `{user_id}` does not exist")
        self._pairs.add(group_id, user_id)

    def remove(self, group_id: str, user_id: str) -> None:
        self._pairs.remove(group_id, user_id)

    def groups_of(self, user_id: str) -> list[str]:
        return self._pairs.lefts(user_id)

    def users_of(self, group_id: str) -> list[str]:
        return self._pairs.rights(group_id)


class Attachments:
    def __init__(self, state: State) -> None:
        self._state = state
        self._pairs = Pairs(state.attachments, describe_attachment)

    def attach(self, principal_id: str, policy_id: str) -> None:
        if policy_id not in self._state.policies:
            raise NotFound(f"policy `{policy_id}` does not exist")
        self._pairs.add(principal_id, policy_id)

    def detach(self, principal_id: str, policy_id: str) -> None:
        self._pairs.remove(principal_id, policy_id)

    def policies_of(self, principal_id: str) -> list[str]:
        return self._pairs.rights(principal_id)

    def principals_of(self, policy_id: str) -> list[str]:
        return self._pairs.lefts(policy_id)


class Versions:
    def __init__(self, state: State) -> None:
        self._state = state

    def add(self, version: PolicyVersion) -> None:
        if version.policy_id not in self._state.policies:
            raise NotFound(f"policy `{version.policy_id}` does not exist")
        key = (version.policy_id, version.version_id)
        if key in self._state.versions:
            raise AlreadyExists(
                f"policy version `{version.version_id}` of `{version.policy_id}` already exists"
            )
        self._state.versions[key] = version

    def get(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        return self._state.versions.get((policy_id, version_id))

    def list(self, policy_id: str) -> list[PolicyVersion]:
        return version_order(v for v in self._state.versions.values() if v.policy_id == policy_id)

    def remove(self, policy_id: str, version_id: str) -> None:
        if self._state.versions.pop((policy_id, version_id), None) is None:
            raise NotFound(f"policy version `{version_id}` of `{policy_id}` does not exist")


class Inline:
    def __init__(self, state: State) -> None:
        self._table = state.inline

    def put(self, policy: InlinePolicy) -> None:
        self._table[(policy.principal_id, policy.name)] = policy

    def get(self, principal_id: str, name: str) -> InlinePolicy | None:
        return self._table.get((principal_id, name))

    def list(self, principal_id: str) -> list[InlinePolicy]:
        return by_name(p for p in self._table.values() if p.principal_id == principal_id)

    def remove(self, principal_id: str, name: str) -> None:
        if self._table.pop((principal_id, name), None) is None:
            raise NotFound(f"inline policy `{name}` of `{principal_id}` does not exist")


class AccessKeys:
    def __init__(self, state: State) -> None:
        self._state = state

    def add(self, key: AccessKey) -> None:
        if key.user_id is not None and key.user_id not in self._state.users:
            raise NotFound(f"user `{key.user_id}` does not exist")
        _put_new(self._state.access_keys, key.access_key_id, key, "access key")

    def get(self, access_key_id: str) -> AccessKey | None:
        return self._state.access_keys.get(access_key_id)

    def list_for(self, user_id: str | None) -> list[AccessKey]:
        keys = [k for k in self._state.access_keys.values() if k.user_id == user_id]
        return sorted(keys, key=lambda k: k.created_at)

    def update(self, key: AccessKey) -> None:
        _replace(self._state.access_keys, key.access_key_id, key, "access key")

    def remove(self, access_key_id: str) -> None:
        _delete(self._state.access_keys, access_key_id, "access key")


class Profiles:
    def __init__(self, state: State) -> None:
        self._state = state

    def get(self, user_id: str) -> LoginProfile | None:
        return self._state.profiles.get(user_id)

    def add(self, profile: LoginProfile) -> None:
        if profile.user_id not in self._state.users:
            raise NotFound(f"user `{profile.user_id}` does not exist")
        _put_new(self._state.profiles, profile.user_id, profile, "login profile")

    def update(self, profile: LoginProfile) -> None:
        _replace(self._state.profiles, profile.user_id, profile, "login profile")

    def remove(self, user_id: str) -> None:
        _delete(self._state.profiles, user_id, "login profile")


class MFADevices:
    def __init__(self, state: State) -> None:
        self._table = state.mfa

    def add(self, device: MFADevice) -> None:
        _put_new(self._table, device.serial_number, device, "mfa device")

    def get(self, serial_number: str) -> MFADevice | None:
        return self._table.get(serial_number)

    def list(self, user_id: str | None = None) -> list[MFADevice]:
        devices = [d for d in self._table.values() if user_id is None or d.user_id == user_id]
        return sorted(devices, key=lambda d: d.serial_number)

    def update(self, device: MFADevice) -> None:
        _replace(self._table, device.serial_number, device, "mfa device")

    def remove(self, serial_number: str) -> None:
        _delete(self._table, serial_number, "mfa device")


class Providers(Generic[R]):
    """SAML or OIDC providers, keyed by ARN, listed in ARN order."""

    def __init__(self, table: dict[str, R], arn: Callable[[R], str], kind: str) -> None:
        self._table = table
        self._arn = arn
        self._kind = kind

    def add(self, provider: R) -> None:
        _put_new(self._table, self._arn(provider), provider, self._kind)

    def get(self, arn: str) -> R | None:
        return self._table.get(arn)

    def list(self) -> list[R]:
        return [self._table[arn] for arn in sorted(self._table)]

    def update(self, provider: R) -> None:
        _replace(self._table, self._arn(provider), provider, self._kind)

    def remove(self, arn: str) -> None:
        _delete(self._table, arn, self._kind)


class AccountRepo:
    def __init__(self, state: State) -> None:
        self._state = state

    def get(self) -> Account | None:
        return self._state.account

    def put(self, account: Account) -> None:
        self._state.account = account


class KeyRing:
    def __init__(self, state: State) -> None:
        self._table = state.keys

    def add(self, record: KeyRecord) -> None:
        _put_new(self._table, record.key_id, record, "key")

    def list(self, purpose: str) -> list[KeyRecord]:
        records = [r for r in self._table.values() if r.purpose == purpose]
        return sorted(records, key=lambda r: r.created_at)

    def update(self, record: KeyRecord) -> None:
        _replace(self._table, record.key_id, record, "key")


class Revocations:
    def __init__(self, state: State) -> None:
        self._rules = state.revocations

    def add(self, revocation: Revocation) -> None:
        self._rules.append(revocation)

    def active(self, now: datetime) -> list[Revocation]:
        live = [r for r in self._rules if r.expires_at > now]
        return sorted(live, key=lambda r: r.created_at)

    def purge(self, now: datetime) -> int:
        before = len(self._rules)
        self._rules[:] = [r for r in self._rules if r.expires_at > now]
        return before - len(self._rules)
