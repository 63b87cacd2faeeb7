"""`bridge.report`: each IAM bad practice seeded on a real directory is flagged, and only it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.report import SEVERITY_ORDER, Thresholds, run_checks
from bridge.storage.memory import MemoryStore
from tests.unit.directory.directory_support import (
    ACCOUNT,
    CHEAP_HASHING,
    AesGcmSealer,
    SeededRandom,
    identity_doc,
    totp_code,
    trust_doc,
)

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
PASSWORD = "Correct-horse-battery-9"
ADMIN_DOC = identity_doc("*", "*")
Seed = Callable[[Directory, FixedClock], None]


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


@contextmanager
def days_ago(clock: FixedClock, days: int) -> Iterator[None]:
    clock.set(NOW - timedelta(days=days))
    try:
        yield
    finally:
        clock.set(NOW)


def enable_mfa(directory: Directory, clock: FixedClock, user: str | None, name: str) -> None:
    created = directory.mfa.create_virtual(name)
    step = int(clock.now().timestamp()) // 30
    seed, serial = created.seed_base32, created.device.serial_number
    directory.mfa.enable(user, serial, totp_code(seed, step), totp_code(seed, step + 1))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def directory(clock: FixedClock) -> Directory:
    """What `bridge init` makes (admin in Administrators, full access), plus root MFA."""
    built = Directory(
        MemoryStore(clock=clock),
        account_id=ACCOUNT,
        sealer=AesGcmSealer(bytes(range(32))),
        clock=clock,
        rng=SeededRandom(),
        hasher=CHEAP_HASHING,
    )
    built.account.create(PASSWORD)
    built.users.create("admin")
    built.groups.create("Administrators")
    built.groups.add_user("Administrators", "admin")
    policy = built.policies.create("AdministratorAccess", ADMIN_DOC)
    built.attachments.attach("group", "Administrators", built.policies.arn(policy))
    built.keys.create("admin")
    enable_mfa(built, clock, None, "root-phone")
    return built


def flagged(directory: Directory, thresholds: Thresholds | None = None) -> set[tuple[str, str]]:
    return {(f.check, f.subject) for f in run_checks(directory, NOW, thresholds)}


def test_a_clean_directory_has_no_findings(directory: Directory) -> None:
    assert run_checks(directory, NOW) == []


# --- seeds ----------------------------------------------------------------------------


def root_key(d: Directory, c: FixedClock) -> None:
    d.keys.create(None)


def root_without_mfa(d: Directory, c: FixedClock) -> None:
    serial = d.account.get().root_mfa_serial
    assert serial is not None
    d.mfa.deactivate(None, serial)


def console_user(mfa: bool) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        d.users.create("bob")
        d.login_profiles.create("bob", PASSWORD)
        if mfa:
            enable_mfa(d, c, "bob", "bob-phone")

    return seed


def old_key(used_days_ago: int | None, status: str = "Active", user_age: int = 100) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        with days_ago(c, user_age):
            d.users.create("carol")
            key = d.keys.create("carol").key.access_key_id
        if used_days_ago is not None:
            with days_ago(c, used_days_ago):
                d.keys.record_use(key, "iam", "us-east-1")
        if status != "Active":
            d.keys.update_status("carol", key, "Inactive")

    return seed


def user_created(days: int) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        with days_ago(c, days):
            d.users.create("erin")

    return seed


def role_created(days: int, used_days_ago: int | None = None) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        with days_ago(c, days):
            d.roles.create("old", trust_doc())
        if used_days_ago is not None:
            with days_ago(c, used_days_ago):
                d.roles.record_use("old", "us-east-1")

    return seed


def managed_on(kind: str, name: str, document: str = ADMIN_DOC) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        _make_principal(d, kind, name)
        policy = d.policies.create("Everything", document)
        d.attachments.attach(kind, name, d.policies.arn(policy))  # type: ignore[arg-type]

    return seed


def inline_on(kind: str, name: str, document: str = ADMIN_DOC) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        _make_principal(d, kind, name)
        d.inline_policies.put(kind, name, "everything", document)  # type: ignore[arg-type]

    return seed


def _make_principal(d: Directory, kind: str, name: str) -> None:
    if kind == "user":
        d.users.create(name)
    elif kind == "role":
        d.roles.create(name, trust_doc())
    elif name != "Administrators":
        d.groups.create(name)


def statement_doc(**statement: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]})


def trusting(document: str) -> Seed:
    def seed(d: Directory, c: FixedClock) -> None:
        d.roles.create("open", document)

    return seed


ANYONE_IP = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
ASSUME = "sts:AssumeRole"
CASES: list[tuple[str, Seed, set[tuple[str, str]]]] = [
    ("root-access-key", root_key, {("root-access-key", ROOT)}),
    ("root-without-mfa", root_without_mfa, {("root-mfa", ROOT)}),
    ("console-without-mfa", console_user(mfa=False), {("user-console-mfa", arn("user", "bob"))}),
    ("console-with-mfa", console_user(mfa=True), set()),
    ("old-key-in-use", old_key(used_days_ago=0), {("access-key-age", arn("user", "carol"))}),
    (
        "old-key-never-used",
        old_key(used_days_ago=None),
        {
            ("access-key-age", arn("user", "carol")),
            ("access-key-unused", arn("user", "carol")),
            ("unused-user", arn("user", "carol")),
        },
    ),
    (
        "old-key-used-long-ago",
        old_key(used_days_ago=95, user_age=96),
        {
            ("access-key-age", arn("user", "carol")),
            ("access-key-unused", arn("user", "carol")),
            ("unused-user", arn("user", "carol")),
        },
    ),
    (
        "old-inactive-key",
        old_key(used_days_ago=None, status="Inactive"),
        {("unused-user", arn("user", "carol"))},
    ),
    ("user-unused-100-days", user_created(100), {("unused-user", arn("user", "erin"))}),
    ("user-created-89-days-ago", user_created(89), set()),
    ("role-never-used", role_created(100), {("unused-role", arn("role", "old"))}),
    ("role-used-long-ago", role_created(200, 91), {("unused-role", arn("role", "old"))}),
    ("role-used-lately", role_created(200, 1), set()),
    (
        "admin-managed-on-user",
        managed_on("user", "frank"),
        {("full-admin-policy", arn("user", "frank"))},
    ),
    (
        "admin-managed-on-role",
        managed_on("role", "ops"),
        {("full-admin-policy", arn("role", "ops"))},
    ),
    ("admin-inline-on-role", inline_on("role", "ops"), {("full-admin-policy", arn("role", "ops"))}),
    (
        "admin-inline-on-group",
        inline_on("group", "devs"),
        {("full-admin-policy", arn("group", "devs"))},
    ),
    ("admin-inline-on-administrators", inline_on("group", "Administrators"), set()),
    (
        "admin-among-other-actions",
        inline_on(
            "user",
            "frank",
            statement_doc(Action=["s3:GetObject", "*"], Resource=["arn:aws:s3:::b", "*"]),
        ),
        {("full-admin-policy", arn("user", "frank"))},
    ),
    (
        "admin-with-condition",
        inline_on("user", "frank", statement_doc(Action="*", Resource="*", Condition=ANYONE_IP)),
        set(),
    ),
    (
        "every-action-one-resource",
        inline_on("user", "frank", identity_doc("*", "arn:aws:s3:::b")),
        set(),
    ),
    ("one-action-every-resource", managed_on("user", "frank", identity_doc("s3:*", "*")), set()),
    (
        "admin-deny",
        inline_on(
            "user",
            "frank",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
                }
            ),
        ),
        set(),
    ),
    (
        "trust-star",
        trusting(statement_doc(Principal="*", Action=ASSUME)),
        {("open-trust-policy", arn("role", "open"))},
    ),
    (
        "trust-aws-star",
        trusting(
            statement_doc(Principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]}, Action=ASSUME)
        ),
        {("open-trust-policy", arn("role", "open"))},
    ),
    (
        "trust-star-with-condition",
        trusting(statement_doc(Principal="*", Action=ASSUME, Condition=ANYONE_IP)),
        set(),
    ),
    ("trust-one-provider", trusting(trust_doc()), set()),
]


@pytest.mark.parametrize(("seed", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_bad_practice_is_flagged(
    directory: Directory, clock: FixedClock, seed: Seed, expected: set[tuple[str, str]]
) -> None:
    seed(directory, clock)
    assert flagged(directory) == expected


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        (Thresholds(key_age_days=90, unused_days=90), {"access-key-age"}),
        (Thresholds(key_age_days=100, unused_days=90), set()),
        (
            Thresholds(key_age_days=30, unused_days=10),
            {"access-key-age", "access-key-unused", "unused-user"},
        ),
    ],
    ids=["defaults", "age-limit-not-exceeded", "tight-limits"],
)
def test_thresholds_decide_what_is_old(
    directory: Directory, clock: FixedClock, thresholds: Thresholds, expected: set[str]
) -> None:
    old_key(used_days_ago=20, user_age=95)(directory, clock)
    assert {check for check, _ in flagged(directory, thresholds)} == expected


def test_findings_are_sorted_by_severity_then_subject(
    directory: Directory, clock: FixedClock
) -> None:
    for seed in (user_created(100), root_key, managed_on("user", "frank"), console_user(False)):
        seed(directory, clock)
    findings = run_checks(directory, NOW)
    keys = [(SEVERITY_ORDER[f.severity], f.subject) for f in findings]
    assert len({f.severity for f in findings}) == 3
    assert keys == sorted(keys)


def test_messages_name_the_offending_key_and_policy(
    directory: Directory, clock: FixedClock
) -> None:
    key = directory.keys.create(None).key.access_key_id
    inline_on("user", "frank")(directory, clock)
    messages = [f.message for f in run_checks(directory, NOW)]
    assert f"the root account has active access key `{key}`" in messages
    assert any("inline policy `everything`" in m and "`frank`" in m for m in messages)
