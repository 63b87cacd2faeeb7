"""Initial schema: the directory, the key ring and one-time-use keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
NAME = 128
PATH = 512
ARN = 1024


def _id(name: str, *, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.String(ID), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _seq() -> sa.Column[Any]:
    return sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False)


def _named(table: str, key: str, *columns: sa.Column[Any]) -> None:
    """Users, groups, roles, policies: id, name, unique lower-cased name, path."""
    op.create_table(
        table,
        _id(key, nullable=False),
        *columns,
        _str("name", NAME),
        _str("name_key", NAME),
        _str("path", PATH),
        sa.PrimaryKeyConstraint(key, name=f"pk_{table}"),
        sa.UniqueConstraint("name_key", name=f"uq_{table}_name_key"),
    )


def _cascade(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{column}"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _index(table: str, column: str) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id("account_id", nullable=False),
        _text("root_password_hash"),
        _when("created_at"),
        _str("root_mfa_serial", ARN, nullable=True),
        _text("password_policy", nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
    )
    _named(
        "users",
        "user_id",
        _when("created_at"),
        _str("permissions_boundary_arn", ARN, nullable=True),
        _when("password_last_used", nullable=True),
        _text("tags"),
    )
    _named("groups", "group_id", _when("created_at"))
    _named(
        "roles",
        "role_id",
        _text("trust_policy"),
        _when("created_at"),
        _text("description"),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        _str("permissions_boundary_arn", ARN, nullable=True),
        _when("last_used_at", nullable=True),
        _str("last_used_region", ID, nullable=True),
        _text("tags"),
    )
    _named(
        "policies",
        "policy_id",
        _str("default_version_id", ID),
        _when("created_at"),
        _when("updated_at"),
        _text("description"),
        _text("tags"),
    )
    op.create_table(
        "policy_versions",
        _id("policy_id", nullable=False),
        _id("version_id", nullable=False),
        _text("document"),
        _when("created_at"),
        _cascade("policy_id", "policy_versions", "policies"),
        sa.PrimaryKeyConstraint("policy_id", "version_id", name="pk_policy_versions"),
    )
    op.create_table(
        "memberships",
        _seq(),
        _id("group_id", nullable=False),
        _id("user_id", nullable=False),
        _cascade("group_id", "memberships", "groups"),
        _cascade("user_id", "memberships", "users"),
        sa.PrimaryKeyConstraint("seq", name="pk_memberships"),
        sa.UniqueConstraint("group_id", "user_id", name="uq_memberships_group_id_user_id"),
    )
    _index("memberships", "user_id")
    op.create_table(
        "attachments",
        _seq(),
        _id("principal_id", nullable=False),
        _id("policy_id", nullable=False),
        _cascade("policy_id", "attachments", "policies"),
        sa.PrimaryKeyConstraint("seq", name="pk_attachments"),
        sa.UniqueConstraint(
            "principal_id", "policy_id", name="uq_attachments_principal_id_policy_id"
        ),
    )
    _index("attachments", "policy_id")
    op.create_table(
        "inline_policies",
        _id("principal_id", nullable=False),
        _str("name", NAME),
        _text("document"),
        sa.PrimaryKeyConstraint("principal_id", "name", name="pk_inline_policies"),
    )
    op.create_table(
        "access_keys",
        _seq(),
        _id("access_key_id", nullable=False),
        _id("user_id", nullable=True),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        _str("status", 16),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _str("last_used_service", ID, nullable=True),
        _str("last_used_region", ID, nullable=True),
        _cascade("user_id", "access_keys", "users"),
        sa.PrimaryKeyConstraint("seq", name="pk_access_keys"),
        sa.UniqueConstraint("access_key_id", name="uq_access_keys_access_key_id"),
    )
    _index("access_keys", "user_id")
    op.create_table(
        "login_profiles",
        _id("user_id", nullable=False),
        _text("password_hash"),
        _when("created_at"),
        sa.Column("password_reset_required", sa.Boolean(), nullable=False),
        _when("password_changed_at", nullable=True),
        _cascade("user_id", "login_profiles", "users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_login_profiles"),
    )
    op.create_table(
        "mfa_devices",
        _str("serial_number", ARN),
        _str("name", NAME),
        _str("path", PATH),
        sa.Column("seed_sealed", sa.LargeBinary(), nullable=False),
        _when("created_at"),
        _id("user_id", nullable=True),
        _when("enabled_at", nullable=True),
        sa.Column("last_counter", sa.Integer(), nullable=True),
        _text("tags"),
        sa.PrimaryKeyConstraint("serial_number", name="pk_mfa_devices"),
    )
    _index("mfa_devices", "user_id")
    op.create_table(
        "saml_providers",
        _str("arn", ARN),
        _str("name", NAME),
        _text("metadata_document"),
        _when("created_at"),
        _when("valid_until", nullable=True),
        _text("tags"),
        sa.PrimaryKeyConstraint("arn", name="pk_saml_providers"),
    )
    op.create_table(
        "oidc_providers",
        _str("arn", ARN),
        _str("url", ARN),
        _when("created_at"),
        _text("client_ids"),
        _text("thumbprints"),
        _text("tags"),
        sa.PrimaryKeyConstraint("arn", name="pk_oidc_providers"),
    )
    op.create_table(
        "key_ring",
        _seq(),
        _id("key_id", nullable=False),
        _str("purpose", ID),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        _when("created_at"),
        _str("status", 16),
        sa.PrimaryKeyConstraint("seq", name="pk_key_ring"),
        sa.UniqueConstraint("key_id", name="uq_key_ring_key_id"),
    )
    _index("key_ring", "purpose")
    op.create_table(
        "one_time_keys",
        _str("key", ARN),
        _when("expires_at"),
        sa.PrimaryKeyConstraint("key", name="pk_one_time_keys"),
    )
    _index("one_time_keys", "expires_at")


def downgrade() -> None:
    for table in (
        "one_time_keys",
        "key_ring",
        "oidc_providers",
        "saml_providers",
        "mfa_devices",
        "login_profiles",
        "access_keys",
        "inline_policies",
        "attachments",
        "memberships",
        "policy_versions",
        "policies",
        "roles",
        "groups",
        "users",
        "accounts",
    ):
        op.drop_table(table)
