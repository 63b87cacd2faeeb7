"""Service last accessed from `/v1/authorize` decisions, per user or role and namespace.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
NAME = 128
ARN = 1024


def upgrade() -> None:
    op.create_table(
        "service_last_accessed",
        sa.Column("entity_id", sa.String(ID), nullable=False),
        sa.Column("namespace", sa.String(NAME), nullable=False),
        sa.Column("entity_arn", sa.String(ARN), nullable=False),
        sa.Column("last_authenticated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(NAME), nullable=True),
        sa.PrimaryKeyConstraint("entity_id", "namespace", name="pk_service_last_accessed"),
    )


def downgrade() -> None:
    op.drop_table("service_last_accessed")
