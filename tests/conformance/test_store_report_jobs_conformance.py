"""Report jobs (credential reports, last-accessed jobs), the same on every `Store`."""

from __future__ import annotations

from datetime import datetime

import pytest
from conformance_records import at
from conftest import StoreFactory

from bridge.storage.interfaces import Store
from bridge.storage.report_jobs import ReportJob


def _job(job_id: str, created: float, expires: float, content: str = "a,b\n1,2\n") -> ReportJob:
    return ReportJob(job_id, "credential_report", at(created), at(expires), content, "csv")


def _put(store: Store, *jobs: ReportJob) -> None:
    with store.transaction() as uow:
        for job in jobs:
            uow.report_jobs.put(job)


def _get(store: Store, job_id: str, now: datetime) -> ReportJob | None:
    with store.transaction() as uow:
        return uow.report_jobs.get(job_id, now)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(at(0), True, id="before-expiry"),
        pytest.param(at(99), True, id="just-before-expiry"),
        pytest.param(at(100), False, id="expiry-is-exclusive"),
        pytest.param(at(500), False, id="long-expired"),
    ],
)
def test_get_returns_the_job_until_it_expires(store: Store, now: datetime, expected: bool) -> None:
    job = _job("0f5c8e6a-1111-4aaa-8bbb-123456789abc", 0, 100, "x" * 70_000)
    _put(store, job)
    assert (_get(store, job.job_id, now) == job) is expected


def test_unknown_job_is_absent(store: Store) -> None:
    _put(store, _job("known", 0, 100))
    assert _get(store, "unknown", at(1)) is None


def test_put_replaces_the_job_with_the_same_id(store: Store) -> None:
    _put(store, _job("credential-report:123456789012", 0, 100, "old"))
    newer = _job("credential-report:123456789012", 50, 200, "new")
    _put(store, newer)
    assert _get(store, newer.job_id, at(150)) == newer


def test_purge_removes_only_expired_jobs(store: Store) -> None:
    _put(store, _job("gone-1", 0, 10), _job("gone-2", 0, 20), _job("kept", 0, 30))
    with store.transaction() as uow:
        purged = uow.report_jobs.purge(at(20))
    assert purged == 2
    assert _get(store, "kept", at(21)) is not None
    assert _get(store, "gone-1", at(0)) is None


def test_a_job_written_by_one_store_is_read_by_another(store_factory: StoreFactory) -> None:
    """Two stores on one database stand for two instances sharing it."""
    first, second = store_factory(), store_factory()
    job = _job("1a2b3c4d-0000-4000-8000-000000000001", 0, 100)
    _put(first, job)
    assert _get(second, job.job_id, at(5)) == job


def test_a_rolled_back_put_leaves_nothing(store: Store) -> None:
    job = _job("rolled-back", 0, 100)

    def put_then_fail() -> None:
        with store.transaction() as uow:
            uow.report_jobs.put(job)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        put_then_fail()
    assert _get(store, job.job_id, at(1)) is None
