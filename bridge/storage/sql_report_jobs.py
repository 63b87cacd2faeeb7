"""The SQL report-job repository (see `bridge.storage.report_jobs`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge.storage.models import ReportJobRow
from bridge.storage.report_jobs import ReportJob
from bridge.storage.sql_repos import flush, to_record, values_of


class SqlReportJobs:
    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, job: ReportJob) -> None:
        """Replace in the same transaction: delete the old row, then insert."""
        self._session.execute(delete(ReportJobRow).where(ReportJobRow.job_id == job.job_id))
        self._session.add(ReportJobRow(**values_of(job)))
        flush(self._session, f"report job `{job.job_id}`")

    def get(self, job_id: str, now: datetime) -> ReportJob | None:
        row = ReportJobRow
        found = self._session.scalars(
            select(row).where(row.job_id == job_id, row.expires_at > now)
        ).first()
        return None if found is None else to_record(ReportJob, found)

    def purge(self, now: datetime) -> int:
        stale = delete(ReportJobRow).where(ReportJobRow.expires_at <= now)
        return int(getattr(self._session.execute(stale), "rowcount", 0) or 0)
