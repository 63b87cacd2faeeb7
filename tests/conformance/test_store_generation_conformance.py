"""The directory generation on every backend: a transaction that changes the directory
moves it (seen by every store on the database), one that changes nothing on the decision
path (audit, last accessed, report jobs, revocations, last-used times, reads) or that
rolls back does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from conformance_records import T0, at, group, policy, role, user

from bridge.storage.audit_records import AuditRecord
from bridge.storage.interfaces import (
    AccessKey,
    InlinePolicy,
    MFADevice,
    PolicyVersion,
    Revocation,
    Store,
    Tag,
    UnitOfWork,
)
from bridge.storage.report_jobs import ReportJob
from bridge.storage.service_access import ServiceAccess

USER, ROLE, GROUP, POLICY = "AIDAUSER", "AROAROLE", "AGPAGROUP", "ANPAPOLICY"
KEY, SERIAL = "AKIAKEY", "arn:aws:iam::123456789012:mfa/phone"
DOC = '{"Version":"2012-10-17"}'

Step = Callable[[UnitOfWork], object]
StoreFactory = Callable[[], Store]


def _seed(uow: UnitOfWork) -> None:
    uow.users.add(user(USER, "alice"))
    uow.roles.add(role(ROLE, "deploy"))
    uow.groups.add(group(GROUP, "crew"))
    uow.policies.add(policy(POLICY, "managed"))
    uow.policy_versions.add(PolicyVersion(POLICY, "v1", DOC, T0))
    uow.access_keys.add(AccessKey(KEY, USER, b"sealed", "Active", T0))
    uow.mfa_devices.add(MFADevice(SERIAL, "phone", "/", b"seed", T0))


def _get_key(uow: UnitOfWork) -> AccessKey:
    key = uow.access_keys.get(KEY)
    assert key is not None
    return key


CHANGES: list[object] = [
    pytest.param(lambda u: u.users.add(user("AIDAOTHER", "bob")), id="add-user"),
    pytest.param(lambda u: u.users.update(replace(user(USER, "alice"), tags=(Tag("k", "v"),))),
        id="tag-user"),
    pytest.param(lambda u: u.users.remove(USER), id="remove-user"),
    pytest.param(lambda u: u.roles.update(replace(role(ROLE, "deploy"), max_session_duration=7200)),
        id="update-role"),
    pytest.param(lambda u: u.memberships.add(GROUP, USER), id="add-membership"),
    pytest.param(lambda u: u.attachments.attach(ROLE, POLICY), id="attach-policy"),
    pytest.param(lambda u: u.policy_versions.add(PolicyVersion(POLICY, "v2", DOC, at(1))),
        id="add-policy-version"),
    pytest.param(lambda u: u.policies.update(replace(policy(POLICY, "managed"),
        default_version_id="v2")), id="set-default-version"),
    pytest.param(lambda u: u.inline_policies.put(InlinePolicy(ROLE, "own", DOC)),
        id="put-inline-policy"),
    pytest.param(lambda u: u.access_keys.update(replace(_get_key(u), status="Inactive")),
        id="deactivate-key"),
    pytest.param(lambda u: u.access_keys.remove(KEY), id="remove-key"),
    pytest.param(lambda u: u.mfa_devices.update(MFADevice(SERIAL, "phone", "/", b"seed", T0,
        user_id=USER, enabled_at=at(1), last_counter=5)), id="enable-mfa-device"),
    pytest.param(lambda u: u.policies.remove(POLICY), id="remove-policy"),
]  # fmt: skip

NO_CHANGES: list[object] = [
    pytest.param(lambda u: u.audit.add(AuditRecord(at(1), "Authorize", "success", "r1")),
        id="audit-event"),
    pytest.param(lambda u: u.service_access.record(ServiceAccess(ROLE, "s3", "arn", at(1), None)),
        id="service-last-accessed"),
    pytest.param(lambda u: u.report_jobs.put(ReportJob("j1", "credential_report", at(1), at(9),
        "csv")), id="report-job"),
    pytest.param(lambda u: u.revocations.add(Revocation("session", "ASIAX", at(1), at(9))),
        id="revocation"),
    pytest.param(lambda u: u.access_keys.update(replace(_get_key(u), last_used_at=at(5),
        last_used_service="s3", last_used_region="eu-west-1")), id="key-last-used"),
    pytest.param(lambda u: u.roles.update(replace(role(ROLE, "deploy"), last_used_at=at(5),
        last_used_region="eu-west-1")), id="role-last-used"),
    pytest.param(lambda u: u.users.update(replace(user(USER, "alice"),
        password_last_used=at(5))), id="user-password-last-used"),
    pytest.param(lambda u: u.mfa_devices.update(MFADevice(SERIAL, "phone", "/", b"seed", T0,
        last_counter=9)), id="mfa-counter"),
    pytest.param(lambda u: u.users.update(user(USER, "alice")), id="update-to-the-same-values"),
    pytest.param(lambda u: (u.users.list(), u.attachments.policies_of(ROLE)), id="reads"),
]  # fmt: skip


def _abandon(store: Store) -> None:
    with store.transaction() as uow:
        uow.users.add(user("AIDAOTHER", "bob"))
        raise RuntimeError("abandoned")


def _generations(store: Store, step: Step) -> tuple[int, int]:
    with store.transaction() as uow:
        _seed(uow)
    before = store.directory_generation()
    with store.transaction() as uow:
        step(uow)
    return before, store.directory_generation()


@pytest.mark.parametrize("step", CHANGES)
def test_a_directory_change_moves_the_generation_everywhere(
    store_factory: StoreFactory, step: Step
) -> None:
    store, other = store_factory(), store_factory()
    writes = store.directory_writes
    before, after = _generations(store, step)
    assert after != before
    assert other.directory_generation() == after
    assert store.directory_writes == writes + 2  # the seed and the change


@pytest.mark.parametrize("step", NO_CHANGES)
def test_what_no_decision_reads_leaves_the_generation(store: Store, step: Step) -> None:
    before, after = _generations(store, step)
    assert after == before


def test_a_rolled_back_change_leaves_the_generation(store: Store) -> None:
    with store.transaction() as uow:
        _seed(uow)
    before, writes = store.directory_generation(), store.directory_writes
    with pytest.raises(RuntimeError):
        _abandon(store)
    assert (store.directory_generation(), store.directory_writes) == (before, writes)
