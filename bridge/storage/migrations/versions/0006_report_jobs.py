"""Report jobs (credential reports, service-last-accessed jobs) in the database, so any
instance answers for a job started at another.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 128


def upgrade() -> None:
    op.create_table(
        "report_jobs",
        sa.Column("job_id", sa.String(NAME), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(NAME), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_report_jobs"),
    )
    op.create_index("ix_report_jobs_expires_at", "report_jobs", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_report_jobs_expires_at", table_name="report_jobs")
    op.drop_table("report_jobs")
