"""The SQL unit of work: every repository bound to one session (one transaction)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.audit_records import AuditRepository
from bridge.storage.interfaces import (
    AccessKey,
    AccessKeyRepository,
    Account,
    AccountRepository,
    AttachmentRepository,
    Group,
    InlinePolicy,
    InlinePolicyRepository,
    KeyRecord,
    KeyRingRepository,
    LoginProfile,
    LoginProfileRepository,
    ManagedPolicy,
    MembershipRepository,
    MFADevice,
    MFADeviceRepository,
    NamedRepository,
    OIDCProvider,
    OIDCProviderRepository,
    PolicyVersion,
    PolicyVersionRepository,
    Revocation,
    RevocationRepository,
    Role,
    SAMLProvider,
    SAMLProviderRepository,
    User,
)
from bridge.storage.models import (
    AccessKeyRow,
    AccountRow,
    AttachmentRow,
    GroupRow,
    InlinePolicyRow,
    KeyRecordRow,
    LoginProfileRow,
    MembershipRow,
    MFADeviceRow,
    OIDCProviderRow,
    PolicyRow,
    PolicyVersionRow,
    RevocationRow,
    RoleRow,
    SAMLProviderRow,
    UserRow,
)
from bridge.storage.ordering import (
    by_name,
    describe_attachment,
    describe_membership,
    version_order,
)
from bridge.storage.report_jobs import ReportJobRepository
from bridge.storage.service_access import ServiceAccessRepository
from bridge.storage.sql_audit import SqlAudit
from bridge.storage.sql_report_jobs import SqlReportJobs
from bridge.storage.sql_repos import (
    Keyed,
    SqlNamed,
    flush,
    forget_policy,
    forget_principal,
    require,
    require_user,
    to_record,
    values_of,
)
from bridge.storage.sql_service_access import SqlServiceAccess


class _Pairs:
    """Ordered unique pairs (memberships or attachments), in insertion order (`seq`)."""

    def __init__(
        self,
        session: Session,
        model: type[MembershipRow] | type[AttachmentRow],
        left: InstrumentedAttribute[str],
        right: InstrumentedAttribute[str],
        describe: Callable[[str, str], str],
    ) -> None:
        self._session = session
        self._model = model
        self._left = left
        self._right = right
        self._describe = describe

    def add(self, left: str, right: str) -> None:
        if self._exists(left, right):
            raise AlreadyExists(f"{self._describe(left, right)} already exists")
        self._session.add(self._model(**{self._left.key: left, self._right.key: right}))
        flush(self._session, self._describe(left, right))

    def remove(self, left: str, right: str) -> None:
        if not self._exists(left, right):
            raise NotFound(f"{self._describe(left, right)} does not exist")
        criteria = (self._left == left, self._right == right)
        self._session.execute(delete(self._model).where(*criteria))

    def rights(self, left: str) -> list[str]:
        query = select(self._right).where(self._left == left).order_by(self._model.seq)
        return list(self._session.scalars(query))

    def lefts(self, right: str) -> list[str]:
        query = select(self._left).where(self._right == right).order_by(self._model.seq)
        return list(self._session.scalars(query))

    def _exists(self, left: str, right: str) -> bool:
        query = select(self._model.seq).where(self._left == left, self._right == right)
        return self._session.scalars(query).first() is not None


class _Memberships:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._pairs = _Pairs(
            session,
            MembershipRow,
            MembershipRow.group_id,
            MembershipRow.user_id,
            describe_membership,
        )

    def add(self, group_id: str, user_id: str) -> None:
        require(self._session, GroupRow, group_id, f"group `{group_id}`")
        require_user(self._session, user_id)
        self._pairs.add(group_id, user_id)

    def remove(self, group_id: str, user_id: str) -> None:
        self._pairs.remove(group_id, user_id)

    def groups_of(self, user_id: str) -> list[str]:
        return self._pairs.lefts(user_id)

    def users_of(self, group_id: str) -> list[str]:
        return self._pairs.rights(group_id)


class _Attachments:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._pairs = _Pairs(
            session,
            AttachmentRow,
            AttachmentRow.principal_id,
            AttachmentRow.policy_id,
            describe_attachment,
        )

    def attach(self, principal_id: str, policy_id: str) -> None:
        require(self._session, PolicyRow, policy_id, f"policy `{policy_id}`")
        self._pairs.add(principal_id, policy_id)

    def detach(self, principal_id: str, policy_id: str) -> None:
        self._pairs.remove(principal_id, policy_id)

    def policies_of(self, principal_id: str) -> list[str]:
        return self._pairs.rights(principal_id)

    def principals_of(self, policy_id: str) -> list[str]:
        return self._pairs.lefts(policy_id)


class _Versions:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, version: PolicyVersion) -> None:
        what = f"policy version `{version.version_id}` of `{version.policy_id}`"
        require(self._session, PolicyRow, version.policy_id, f"policy `{version.policy_id}`")
        if self._row(version.policy_id, version.version_id) is not None:
            raise AlreadyExists(f"{what} already exists")
        self._session.add(PolicyVersionRow(**values_of(version)))
        flush(self._session, what)

    def get(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        row = self._row(policy_id, version_id)
        return None if row is None else to_record(PolicyVersion, row)

    def list(self, policy_id: str) -> list[PolicyVersion]:
        query = select(PolicyVersionRow).where(PolicyVersionRow.policy_id == policy_id)
        return version_order(to_record(PolicyVersion, r) for r in self._session.scalars(query))

    def remove(self, policy_id: str, version_id: str) -> None:
        row = self._row(policy_id, version_id)
        if row is None:
            raise NotFound(f"policy version `{version_id}` of `{policy_id}` does not exist")
        self._session.delete(row)
        self._session.flush()

    def _row(self, policy_id: str, version_id: str) -> PolicyVersionRow | None:
        return self._session.get(PolicyVersionRow, (policy_id, version_id))


class _Inline:
    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, policy: InlinePolicy) -> None:
        self._session.merge(InlinePolicyRow(**values_of(policy)))
        flush(self._session, f"inline policy `{policy.name}` of `{policy.principal_id}`")

    def get(self, principal_id: str, name: str) -> InlinePolicy | None:
        row = self._session.get(InlinePolicyRow, (principal_id, name))
        return None if row is None else to_record(InlinePolicy, row)

    def list(self, principal_id: str) -> list[InlinePolicy]:
        query = select(InlinePolicyRow).where(InlinePolicyRow.principal_id == principal_id)
        return by_name(to_record(InlinePolicy, r) for r in self._session.scalars(query))

    def remove(self, principal_id: str, name: str) -> None:
        row = self._session.get(InlinePolicyRow, (principal_id, name))
        if row is None:
            raise NotFound(f"inline policy `{name}` of `{principal_id}` does not exist")
        self._session.delete(row)
        self._session.flush()


class _AccessKeys:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._rows = Keyed(
            session, AccessKeyRow, AccessKey, AccessKeyRow.access_key_id, kind="access key"
        )

    def add(self, key: AccessKey) -> None:
        if key.user_id is not None:
            require_user(self._session, key.user_id)
        self._rows.add(key)

    def get(self, access_key_id: str) -> AccessKey | None:
        return self._rows.get(access_key_id)

    def list_for(self, user_id: str | None) -> list[AccessKey]:
        owner = AccessKeyRow.user_id
        criterion = owner.is_(None) if user_id is None else owner == user_id
        return self._rows.where(criterion, order=(AccessKeyRow.created_at, AccessKeyRow.seq))

    def update(self, key: AccessKey) -> None:
        self._rows.update(key)

    def remove(self, access_key_id: str) -> None:
        self._rows.remove(access_key_id)


class _Profiles:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._rows = Keyed(
            session, LoginProfileRow, LoginProfile, LoginProfileRow.user_id, kind="login profile"
        )

    def get(self, user_id: str) -> LoginProfile | None:
        return self._rows.get(user_id)

    def add(self, profile: LoginProfile) -> None:
        require_user(self._session, profile.user_id)
        self._rows.add(profile)

    def update(self, profile: LoginProfile) -> None:
        self._rows.update(profile)

    def remove(self, user_id: str) -> None:
        self._rows.remove(user_id)


class _MFADevices(Keyed[MFADevice, MFADeviceRow]):
    def __init__(self, session: Session) -> None:
        super().__init__(
            session, MFADeviceRow, MFADevice, MFADeviceRow.serial_number, kind="mfa device"
        )

    def list(self, user_id: str | None = None) -> list[MFADevice]:
        criteria = () if user_id is None else (MFADeviceRow.user_id == user_id,)
        return sorted(self.where(*criteria), key=lambda d: d.serial_number)


class _SAMLProviders(Keyed[SAMLProvider, SAMLProviderRow]):
    def __init__(self, session: Session) -> None:
        super().__init__(
            session, SAMLProviderRow, SAMLProvider, SAMLProviderRow.arn, kind="saml provider"
        )

    def list(self) -> list[SAMLProvider]:
        return sorted(self.where(), key=lambda p: p.arn)


class _OIDCProviders(Keyed[OIDCProvider, OIDCProviderRow]):
    def __init__(self, session: Session) -> None:
        super().__init__(
            session, OIDCProviderRow, OIDCProvider, OIDCProviderRow.arn, kind="oidc provider"
        )

    def list(self) -> list[OIDCProvider]:
        return sorted(self.where(), key=lambda p: p.arn)


class _KeyRing(Keyed[KeyRecord, KeyRecordRow]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, KeyRecordRow, KeyRecord, KeyRecordRow.key_id, kind="key")

    def list(self, purpose: str) -> list[KeyRecord]:
        criterion = KeyRecordRow.purpose == purpose
        return self.where(criterion, order=(KeyRecordRow.created_at, KeyRecordRow.seq))


class _Revocations:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, revocation: Revocation) -> None:
        self._session.add(RevocationRow(**values_of(revocation)))
        flush(self._session, f"revocation of `{revocation.subject}`")

    def active(self, now: datetime) -> list[Revocation]:
        query = (
            select(RevocationRow)
            .where(RevocationRow.expires_at > now)
            .order_by(RevocationRow.created_at, RevocationRow.seq)
        )
        return [to_record(Revocation, row) for row in self._session.scalars(query)]

    def purge(self, now: datetime) -> int:
        doomed = select(RevocationRow.seq).where(RevocationRow.expires_at <= now)
        seqs = list(self._session.scalars(doomed))
        if seqs:
            self._session.execute(delete(RevocationRow).where(RevocationRow.seq.in_(seqs)))
        return len(seqs)


class _Account:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self) -> Account | None:
        row = self._session.scalars(select(AccountRow)).first()
        return None if row is None else to_record(Account, row)

    def put(self, account: Account) -> None:
        self._session.execute(delete(AccountRow))
        self._session.add(AccountRow(**values_of(account)))
        flush(self._session, f"account `{account.account_id}`")


class SqlUnit:
    """The repositories over one session."""

    def __init__(self, session: Session) -> None:
        self.account: AccountRepository = _Account(session)
        self.users: NamedRepository[User] = SqlNamed(
            session, UserRow, User, UserRow.user_id, kind="user", on_remove=forget_principal
        )
        self.groups: NamedRepository[Group] = SqlNamed(
            session, GroupRow, Group, GroupRow.group_id, kind="group", on_remove=forget_principal
        )
        self.roles: NamedRepository[Role] = SqlNamed(
            session, RoleRow, Role, RoleRow.role_id, kind="role", on_remove=forget_principal
        )
        self.policies: NamedRepository[ManagedPolicy] = SqlNamed(
            session,
            PolicyRow,
            ManagedPolicy,
            PolicyRow.policy_id,
            kind="policy",
            on_remove=forget_policy,
        )
        self.policy_versions: PolicyVersionRepository = _Versions(session)
        self.memberships: MembershipRepository = _Memberships(session)
        self.attachments: AttachmentRepository = _Attachments(session)
        self.inline_policies: InlinePolicyRepository = _Inline(session)
        self.access_keys: AccessKeyRepository = _AccessKeys(session)
        self.login_profiles: LoginProfileRepository = _Profiles(session)
        self.mfa_devices: MFADeviceRepository = _MFADevices(session)
        self.saml_providers: SAMLProviderRepository = _SAMLProviders(session)
        self.oidc_providers: OIDCProviderRepository = _OIDCProviders(session)
        self.key_ring: KeyRingRepository = _KeyRing(session)
        self.revocations: RevocationRepository = _Revocations(session)
        self.audit: AuditRepository = SqlAudit(session)
        self.service_access: ServiceAccessRepository = SqlServiceAccess(session)
        self.report_jobs: ReportJobRepository = SqlReportJobs(session)
