"""IAM report jobs as stored records: credential reports and service-last-accessed jobs.

A job is kept in the store, not in the process that made it, so any instance sharing
the database answers `GetCredentialReport` or `GetServiceLastAccessedDetails` for a
job started at another. `content` is text the store never looks into (CSV for a
credential report, JSON for a last-accessed job). A job whose `expires_at` has passed
is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ReportJob:
    job_id: str  # a UUID, or `credential-report:<account id>` (one report per account)
    kind: str  # "credential_report" | "service_last_accessed"
    created_at: datetime
    expires_at: datetime
    content: str
    detail: str = ""  # e.g. the job type (`SERVICE_LEVEL`)


class ReportJobRepository(Protocol):
    def put(self, job: ReportJob) -> None:
        """Insert the job, or replace the job with the same id."""
        ...

    def get(self, job_id: str, now: datetime) -> ReportJob | None:
        """The job, or None when absent or when its `expires_at` is not after `now`."""
        ...

    def purge(self, now: datetime) -> int:
        """Delete the jobs with `expires_at` at or before `now`; return how many."""
        ...


class MemoryReportJobs:
    """Jobs in a dict owned by the memory store's state (copied per transaction)."""

    def __init__(self, jobs: dict[str, ReportJob]) -> None:
        self._jobs = jobs

    def put(self, job: ReportJob) -> None:
        self._jobs[job.job_id] = job

    def get(self, job_id: str, now: datetime) -> ReportJob | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.expires_at > now else None

    def purge(self, now: datetime) -> int:
        stale = [key for key, job in self._jobs.items() if job.expires_at <= now]
        for key in stale:
            del self._jobs[key]
        return len(stale)
