"""`bridge report`: IAM security best practices, checked on the live directory.

    findings = run_checks(directory, clock.now(), Thresholds(key_age_days=90, unused_days=90))

The checks are pure reads of a `Directory` at an injected `now`; they follow the IAM
user guide's "Security best practices in IAM" (root credentials, MFA, key rotation,
unused credentials, least privilege, role trust).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bridge.directory import Directory
from bridge.directory.ids import root_arn
from bridge.directory.lookup import PrincipalKind
from bridge.errors import NotFound
from bridge.policy import Policy, PolicyError, Statement, parse_policy
from bridge.storage.interfaces import AccessKey, Group, Role, User

Severity = Literal["high", "medium", "low"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
ADMIN_GROUP = "Administrators"
_ALLOW = "Allow"


@dataclass(frozen=True)
class Finding:
    """One departure from a best practice: which check, how bad, on what (an ARN), why."""

    check: str
    severity: Severity
    subject: str
    message: str


@dataclass(frozen=True)
class Thresholds:
    key_age_days: int = 90
    unused_days: int = 90


def run_checks(
    directory: Directory, now: datetime, thresholds: Thresholds | None = None
) -> list[Finding]:
    """Every check over the directory, sorted by severity, then subject."""
    limits = thresholds or Thresholds()
    found = [
        *check_root(directory),
        *check_console_mfa(directory),
        *check_access_keys(directory, now, limits.key_age_days, limits.unused_days),
        *check_unused_principals(directory, now, limits.unused_days),
        *check_full_admin(directory),
        *check_open_trust(directory),
    ]
    return sort_findings(found)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.subject, f.check, f.message)
    )


# --- root account ---------------------------------------------------------------------


def check_root(directory: Directory) -> Iterator[Finding]:
    """The root account should have no access keys and should have MFA."""
    subject = root_arn(directory.account_id)
    for key in directory.keys.list(None):
        message = f"the root account has {key.status.lower()} access key `{key.access_key_id}`"
        yield Finding("root-access-key", "high", subject, message)
    if directory.account.get().root_mfa_serial is None:
        yield Finding("root-mfa", "high", subject, "the root account has no MFA device")


# --- users: console MFA ---------------------------------------------------------------


def check_console_mfa(directory: Directory) -> Iterator[Finding]:
    """Users who can sign in to the console with a password should have MFA."""
    for user in directory.users.list():
        if _has_login_profile(directory, user) and not directory.mfa.list(user.name):
            message = f"user `{user.name}` has a console password and no MFA device"
            yield Finding("user-console-mfa", "medium", directory.users.arn(user), message)


def _has_login_profile(directory: Directory, user: User) -> bool:
    try:
        directory.login_profiles.get(user.name)
    except NotFound:
        return False
    return True


# --- access keys ----------------------------------------------------------------------


def check_access_keys(
    directory: Directory, now: datetime, age_days: int, unused_days: int
) -> Iterator[Finding]:
    """Active keys older than `age_days`, or unused for `unused_days`."""
    owners: list[tuple[str | None, str]] = [(None, root_arn(directory.account_id))]
    owners += [(u.name, directory.users.arn(u)) for u in directory.users.list()]
    for user_name, subject in owners:
        for key in directory.keys.list(user_name):
            if key.status == "Active":
                yield from _key_findings(key, subject, now, age_days, unused_days)


def _key_findings(
    key: AccessKey, subject: str, now: datetime, age_days: int, unused_days: int
) -> Iterator[Finding]:
    age = _days(now - key.created_at)
    if age > age_days:
        message = f"access key `{key.access_key_id}` is {age} days old, over {age_days} days"
        yield Finding("access-key-age", "medium", subject, message)
    idle = _days(now - (key.last_used_at or key.created_at))
    if idle > unused_days:
        how = "never used" if key.last_used_at is None else "not used"
        message = f"access key `{key.access_key_id}` {how} for {idle} days, over {unused_days}"
        yield Finding("access-key-unused", "medium", subject, message)


# --- unused users and roles -----------------------------------------------------------


def check_unused_principals(directory: Directory, now: datetime, days: int) -> Iterator[Finding]:
    """Users with no password or key use, and roles not assumed, for `days` days."""
    for user in directory.users.list():
        idle = _days(now - _user_last_activity(directory, user))
        if idle > days:
            message = f"user `{user.name}` has not signed in or used a key for {idle} days"
            yield Finding("unused-user", "low", directory.users.arn(user), message)
    for role in directory.roles.list():
        idle = _days(now - (role.last_used_at or role.created_at))
        if idle > days:
            how = "never used" if role.last_used_at is None else "not used"
            message = f"role `{role.name}` {how} for {idle} days, over {days}"
            yield Finding("unused-role", "low", directory.roles.arn(role), message)


def _user_last_activity(directory: Directory, user: User) -> datetime:
    """The latest of creation, password use and key use."""
    times = [user.created_at]
    if user.password_last_used is not None:
        times.append(user.password_last_used)
    times += [k.last_used_at for k in directory.keys.list(user.name) if k.last_used_at]
    return max(times)


def _days(delta: timedelta) -> int:
    return delta.days


# --- least privilege: `*` on `*` ------------------------------------------------------


@dataclass(frozen=True)
class _Holder:
    kind: PrincipalKind
    name: str
    arn: str


def check_full_admin(directory: Directory) -> Iterator[Finding]:
    """Policies allowing every action on every resource, anywhere but the admin group."""
    for holder in _holders(directory):
        if holder.kind == "group" and holder.name == ADMIN_GROUP:
            continue
        for label, document in _documents(directory, holder):
            yield from _admin_findings(holder, label, document)


def _holders(directory: Directory) -> Iterator[_Holder]:
    users: list[User] = directory.users.list()
    groups: list[Group] = directory.groups.list()
    roles: list[Role] = directory.roles.list()
    yield from (_Holder("user", u.name, directory.users.arn(u)) for u in users)
    yield from (_Holder("group", g.name, directory.groups.arn(g)) for g in groups)
    yield from (_Holder("role", r.name, directory.roles.arn(r)) for r in roles)


def _documents(directory: Directory, holder: _Holder) -> Iterator[tuple[str, str]]:
    """(label, JSON) of each managed policy attached to `holder`, then each inline one."""
    for managed in directory.attachments.list_attached(holder.kind, holder.name):
        arn = directory.policies.arn(managed)
        yield f"managed policy `{arn}`", directory.policies.default_document(arn)
    for name in directory.inline_policies.list(holder.kind, holder.name):
        inline = directory.inline_policies.get(holder.kind, holder.name, name)
        yield f"inline policy `{name}`", inline.document


def _admin_findings(holder: _Holder, label: str, document: str) -> Iterator[Finding]:
    policy = _parse(document, "identity")
    if isinstance(policy, PolicyError):
        yield _unreadable(holder.arn, label, policy)
        return
    for statement in policy.statements:
        if _is_full_admin(statement):
            where = f"Statement[{statement.index}]"
            message = (
                f"{label} on {holder.kind} `{holder.name}` allows `*` on `*` at {where}"
                f" (only the `{ADMIN_GROUP}` group should)"
            )
            yield Finding("full-admin-policy", "high", holder.arn, message)


def _is_full_admin(statement: Statement) -> bool:
    return (
        _unconditional_allow(statement)
        and not statement.not_action
        and "*" in statement.action
        and not statement.not_resource
        and "*" in (statement.resource or ())
    )


# --- role trust -----------------------------------------------------------------------


def check_open_trust(directory: Directory) -> Iterator[Finding]:
    """Roles whose trust policy lets anyone assume them."""
    for role in directory.roles.list():
        arn = directory.roles.arn(role)
        policy = _parse(role.trust_policy, "trust")
        if isinstance(policy, PolicyError):
            yield _unreadable(arn, f"trust policy of role `{role.name}`", policy)
            continue
        for statement in policy.statements:
            if _trusts_anyone(statement):
                where = f"Statement[{statement.index}].Principal"
                message = f"role `{role.name}` trusts any principal at {where}"
                yield Finding("open-trust-policy", "high", arn, message)


def _trusts_anyone(statement: Statement) -> bool:
    principal = statement.principal or {}
    return (
        _unconditional_allow(statement)
        and not statement.not_principal
        and ("*" in principal or "*" in principal.get("AWS", ()))
    )


# --- shared ---------------------------------------------------------------------------


def _unconditional_allow(statement: Statement) -> bool:
    return statement.effect == _ALLOW and not statement.condition


def _parse(document: str, kind: str) -> Policy | PolicyError:
    """The policy, leniently parsed as stored, or the fault that stops it loading."""
    try:
        return parse_policy(document, strict=False, kind=kind)
    except PolicyError as exc:
        return exc


def _unreadable(subject: str, label: str, error: PolicyError) -> Finding:
    message = f"{label} cannot be checked: {error}"
    return Finding("unreadable-policy", "low", subject, message)
