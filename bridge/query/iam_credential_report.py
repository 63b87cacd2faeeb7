"""IAM credential report: GenerateCredentialReport and GetCredentialReport (CSV, base64).

A report is generated synchronously and kept in the store (`uow.report_jobs`), so any
instance answers GetCredentialReport; IAM calls it expired after four hours.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta

from bridge.directory import ids
from bridge.directory.passwords import PasswordPolicy
from bridge.errors import AlreadyExists, NotFound
from bridge.query.errors import QueryError
from bridge.query.iam import IAM
from bridge.query.iam_reports import JOB_RETENTION, any_resource, load_job, save_job
from bridge.query.registry import ActionContext, Params, Result
from bridge.storage.interfaces import AccessKey, User
from bridge.storage.report_jobs import ReportJob

REPORT_LIFETIME = timedelta(hours=4)
REPORT_KIND = "credential_report"
REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


@IAM.action("GenerateCredentialReport", resource=any_resource)
def generate_credential_report(ctx: ActionContext, p: Params) -> Result:  # noqa: ARG001
    """A new report when none is younger than four hours (IAM's rule), else COMPLETE."""
    now = ctx.services.clock.now()
    current = load_job(ctx, _report_id(ctx))
    if current is not None and now - current.created_at < REPORT_LIFETIME:
        return {"State": "COMPLETE"}
    content = _report_csv(ctx).decode("utf-8")
    job = ReportJob(_report_id(ctx), REPORT_KIND, now, now + JOB_RETENTION, content, "text/csv")
    try:
        save_job(ctx, job)
    except AlreadyExists:  # another instance stored one at the same moment: that one stands
        return {"State": "COMPLETE"}
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation"}


@IAM.action("GetCredentialReport", resource=any_resource)
def get_credential_report(ctx: ActionContext, p: Params) -> Result:  # noqa: ARG001
    """The report from the store, whichever instance generated it."""
    report = load_job(ctx, _report_id(ctx))
    if report is None:
        raise QueryError("ReportNotPresent", "no credential report exists; generate one", 410)
    if ctx.services.clock.now() - report.created_at >= REPORT_LIFETIME:
        raise QueryError("ReportExpired", "the credential report is older than four hours", 410)
    return {
        "Content": base64.b64encode(report.content.encode("utf-8")).decode("ascii"),
        "ReportFormat": "text/csv",
        "GeneratedTime": report.created_at,
    }


def _report_id(ctx: ActionContext) -> str:
    return f"credential-report:{ctx.account_id}"


def _report_csv(ctx: ActionContext) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER.split(","))
    writer.writerow(_root_row(ctx))
    policy = ctx.directory.account.password_policy()
    for user in ctx.directory.users.list():
        writer.writerow(_user_row(ctx, user, policy))
    return out.getvalue().encode("utf-8")


def _when(moment: datetime | None, empty: str = "N/A") -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else empty


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _root_row(ctx: ActionContext) -> list[str]:
    account = ctx.directory.account.get()
    keys = ctx.directory.keys.list(None)
    not_supported = "not_supported"
    return [
        "<root_account>",
        ids.root_arn(ctx.account_id),
        _when(account.created_at),
        not_supported,
        "no_information",
        not_supported,
        not_supported,
        _flag(account.root_mfa_serial is not None),
        *_key_columns(keys),
        *_no_certificates(),
    ]


def _user_row(ctx: ActionContext, user: User, policy: PasswordPolicy) -> list[str]:
    directory = ctx.directory
    try:
        profile = directory.login_profiles.get(user.name)
    except NotFound:
        profile = None
    changed = profile.password_changed_at if profile else None
    rotation = None
    if changed is not None and policy.max_password_age:
        rotation = changed + timedelta(days=policy.max_password_age)
    return [
        user.name,
        ids.entity_arn(ctx.account_id, "user", user.path, user.name),
        _when(user.created_at),
        _flag(profile is not None),
        _when(user.password_last_used, "no_information") if profile else "N/A",
        _when(changed),
        _when(rotation),
        _flag(bool(directory.mfa.list(user.name))),
        *_key_columns(directory.keys.list(user.name)),
        *_no_certificates(),
    ]


def _key_columns(keys: list[AccessKey]) -> list[str]:
    columns: list[str] = []
    for slot in range(2):
        key = keys[slot] if slot < len(keys) else None
        if key is None:
            columns += ["false", "N/A", "N/A", "N/A", "N/A"]
            continue
        columns += [
            _flag(key.status == "Active"),
            _when(key.created_at),
            _when(key.last_used_at),
            key.last_used_region or "N/A",
            key.last_used_service or "N/A",
        ]
    return columns


def _no_certificates() -> list[str]:
    return ["false", "N/A", "false", "N/A"]
