"""Audit events (sign-ins, issuances, refusals) stored for `bridge audit query`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
NAME = 128
ARN = 1024
_INDEXED = ("time", "event_name", "principal")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_name", sa.String(NAME), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("principal", sa.String(ARN), nullable=True),
        sa.Column("source_ip", sa.String(NAME), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(NAME), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    for column in _INDEXED:
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events")
    op.drop_table("audit_events")
