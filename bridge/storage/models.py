"""SQLAlchemy 2 tables, one per record kind, plus memberships, attachments, one-time keys.

Columns carry the names of the record fields in `interfaces.py`, and the column
types return exactly the field types (aware UTC datetimes, tuples of tags), so a
row converts to its record field by field (`bridge.storage.sql_repos`). Unique
names are enforced on `name_key`, the lower-cased name. Relations are keyed by
entity id; rows that depend on an entity are deleted with it (ON DELETE CASCADE).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bridge.storage.interfaces import Tag

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 64
NAME = 128
PATH = 512
ARN = 1024


class UTCDateTime(TypeDecorator[datetime]):
    """Stored in UTC; always read back timezone-aware UTC (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TagList(TypeDecorator[tuple[Tag, ...]]):
    """Tags as a JSON list of `[key, value]` pairs, order kept."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[Tag, ...] | None, _dialect: Dialect) -> str:
        return json.dumps([[t.key, t.value] for t in value or ()])

    def process_result_value(self, value: Any | None, _dialect: Dialect) -> tuple[Tag, ...]:
        return tuple(Tag(k, v) for k, v in json.loads(value or "[]"))


class StringList(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings as a JSON list, order kept."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, _dialect: Dialect) -> str:
        return json.dumps(list(value or ()))

    def process_result_value(self, value: Any | None, _dialect: Dialect) -> tuple[str, ...]:
        return tuple(str(v) for v in json.loads(value or "[]"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime())


def _when() -> Mapped[datetime | None]:
    return mapped_column(UTCDateTime(), nullable=True)


def _tags() -> Mapped[tuple[Tag, ...]]:
    return mapped_column(TagList(), default=())


def _cascade(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class NamedRow(Base):
    """Users, groups, roles and managed policies: unique by lower-cased name."""

    __abstract__ = True
    name: Mapped[str] = mapped_column(String(NAME))
    name_key: Mapped[str] = mapped_column(String(NAME), unique=True)
    path: Mapped[str] = mapped_column(String(PATH))


class AccountRow(Base):
    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    root_password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    root_mfa_serial: Mapped[str | None] = mapped_column(String(ARN))
    password_policy: Mapped[str | None] = mapped_column(Text)


class UserRow(NamedRow):
    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    created_at: Mapped[datetime] = _created()
    permissions_boundary_arn: Mapped[str | None] = mapped_column(String(ARN))
    password_last_used: Mapped[datetime | None] = _when()
    tags: Mapped[tuple[Tag, ...]] = _tags()


class GroupRow(NamedRow):
    __tablename__ = "groups"
    group_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    created_at: Mapped[datetime] = _created()


class RoleRow(NamedRow):
    __tablename__ = "roles"
    role_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    trust_policy: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    description: Mapped[str] = mapped_column(Text, default="")
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    permissions_boundary_arn: Mapped[str | None] = mapped_column(String(ARN))
    last_used_at: Mapped[datetime | None] = _when()
    last_used_region: Mapped[str | None] = mapped_column(String(ID))
    tags: Mapped[tuple[Tag, ...]] = _tags()


class PolicyRow(NamedRow):
    __tablename__ = "policies"
    policy_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    default_version_id: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[tuple[Tag, ...]] = _tags()


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"
    policy_id: Mapped[str] = mapped_column(_cascade("policies.policy_id"), primary_key=True)
    version_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(_cascade("groups.group_id"))
    user_id: Mapped[str] = mapped_column(_cascade("users.user_id"), index=True)


class AttachmentRow(Base):
    """`principal_id` is a user, group or role id, so it has no foreign key."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("principal_id", "policy_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal_id: Mapped[str] = mapped_column(String(ID))
    policy_id: Mapped[str] = mapped_column(_cascade("policies.policy_id"), index=True)


class InlinePolicyRow(Base):
    __tablename__ = "inline_policies"
    principal_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    document: Mapped[str] = mapped_column(Text)


class AccessKeyRow(Base):
    __tablename__ = "access_keys"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    access_key_id: Mapped[str] = mapped_column(String(ID), unique=True)
    user_id: Mapped[str | None] = mapped_column(_cascade("users.user_id"), index=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = _when()
    last_used_service: Mapped[str | None] = mapped_column(String(ID))
    last_used_region: Mapped[str | None] = mapped_column(String(ID))


class LoginProfileRow(Base):
    __tablename__ = "login_profiles"
    user_id: Mapped[str] = mapped_column(_cascade("users.user_id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    password_reset_required: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = _when()


class MFADeviceRow(Base):
    """`user_id` may be "root", so it has no foreign key."""

    __tablename__ = "mfa_devices"
    serial_number: Mapped[str] = mapped_column(String(ARN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    path: Mapped[str] = mapped_column(String(PATH))
    seed_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()
    user_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    enabled_at: Mapped[datetime | None] = _when()
    last_counter: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[tuple[Tag, ...]] = _tags()


class SAMLProviderRow(Base):
    __tablename__ = "saml_providers"
    arn: Mapped[str] = mapped_column(String(ARN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    metadata_document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    valid_until: Mapped[datetime | None] = _when()
    tags: Mapped[tuple[Tag, ...]] = _tags()


class OIDCProviderRow(Base):
    __tablename__ = "oidc_providers"
    arn: Mapped[str] = mapped_column(String(ARN), primary_key=True)
    url: Mapped[str] = mapped_column(String(ARN))
    created_at: Mapped[datetime] = _created()
    client_ids: Mapped[tuple[str, ...]] = mapped_column(StringList(), default=())
    thumbprints: Mapped[tuple[str, ...]] = mapped_column(StringList(), default=())
    tags: Mapped[tuple[Tag, ...]] = _tags()


class KeyRecordRow(Base):
    __tablename__ = "key_ring"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(ID), unique=True)
    purpose: Mapped[str] = mapped_column(String(ID), index=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()
    status: Mapped[str] = mapped_column(String(16), default="active")


class RevocationRow(Base):
    __tablename__ = "revocations"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    not_before: Mapped[datetime | None] = _when()


class AuditEventRow(Base):
    """One audit event; parameters and details are JSON text."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    event_name: Mapped[str] = mapped_column(String(NAME), index=True)
    result: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(ID))
    principal: Mapped[str | None] = mapped_column(String(ARN), nullable=True, index=True)
    source_ip: Mapped[str | None] = mapped_column(String(NAME), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(NAME), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    details: Mapped[str] = mapped_column(Text, default="{}")


class ServiceAccessRow(Base):
    """When a user or role last used a service namespace (from `/v1/authorize` decisions)."""

    __tablename__ = "service_last_accessed"
    entity_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    entity_arn: Mapped[str] = mapped_column(String(ARN))
    last_authenticated: Mapped[datetime] = mapped_column(UTCDateTime())
    region: Mapped[str | None] = mapped_column(String(NAME), nullable=True)


class OneTimeKeyRow(Base):
    __tablename__ = "one_time_keys"
    key: Mapped[str] = mapped_column(String(ARN), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ReportJobRow(Base):
    """A credential report or a service-last-accessed job (`storage.report_jobs`)."""

    __tablename__ = "report_jobs"
    job_id: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    content: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(String(NAME), default="")


class BrowserSessionRow(Base):
    """A login-page session (or a sign-in throttle) keyed by a SHA-256 hex digest."""

    __tablename__ = "browser_sessions"
    key: Mapped[str] = mapped_column(String(ID), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DirectoryGenerationRow(Base):
    """One row (`id` 1): bumped by every transaction that changes the directory, so each
    instance knows when its read cache is out of date (`bridge.storage.generation`)."""

    __tablename__ = "directory_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
