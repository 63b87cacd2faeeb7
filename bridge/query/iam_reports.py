"""IAM account authorization details, the credential report and service last accessed.

Also the reads the simulator shares: an entity's stored policies (`principal_policies`).
Reports and last-accessed jobs are generated synchronously and kept in this process
(`ReportStore`, one per app in `app.extensions`); instances behind a load balancer do
not share them until they move to the database.
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import io
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flask import current_app

from bridge.directory import ids
from bridge.directory.passwords import PasswordPolicy
from bridge.errors import InvalidInput, NotFound
from bridge.policy import PolicyError, parse_policy
from bridge.query.errors import QueryError
from bridge.query.iam import (
    IAM,
    MARKER,
    MAX_ITEMS,
    PAGING,
    arn_field,
    boundary_shape,
    group_shape,
    paginate,
    policy_shape,
    role_shape,
    tags_shape,
    user_shape,
    version_shape,
)
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.query.xml import encode_policy
from bridge.storage.interfaces import AccessKey, User

Kind = Literal["user", "group", "role"]
REPORT_LIFETIME = timedelta(hours=4)


def any_resource(ctx: ActionContext, p: Params) -> str:  # noqa: ARG001 - a resource function
    """The `*` resource of actions that IAM does not scope to one entity."""
    return "*"


# --- stored policies of users, groups and roles -----------------------------------------


@dataclass(frozen=True)
class StoredPolicy:
    """An inline (`arn` None) or attached managed policy of a user, group or role."""

    owner_kind: Kind
    owner_name: str
    name: str
    document: str
    arn: str | None = None


@dataclass(frozen=True)
class PrincipalPolicies:
    identity: tuple[StoredPolicy, ...]
    boundary: StoredPolicy | None
    caller_arn: str | None  # a group cannot be a caller


def inline_policies(ctx: ActionContext, kind: Kind, name: str) -> list[StoredPolicy]:
    inline = ctx.directory.inline_policies
    return [
        StoredPolicy(kind, name, policy, inline.get(kind, name, policy).document)
        for policy in inline.list(kind, name)
    ]


def attached_policies(
    ctx: ActionContext, kind: Kind, name: str, *, documents: bool = False
) -> list[StoredPolicy]:
    policies = ctx.directory.policies
    found = []
    for managed in ctx.directory.attachments.list_attached(kind, name):
        arn = policies.arn(managed)
        text = policies.default_document(arn) if documents else ""
        found.append(StoredPolicy(kind, name, managed.name, text, arn))
    return found


def principal_policies(ctx: ActionContext, arn: str) -> PrincipalPolicies:
    """A user's own and its groups' policies, or a group's or role's, and the boundary."""
    parsed = ids.parse_arn(arn, "PolicySourceArn")
    kind, name = parsed.kind, parsed.name
    if parsed.account_id != ctx.account_id or kind not in ("user", "group", "role"):
        raise InvalidInput("PolicySourceArn", f"`{arn}` must name a user, group or role here")
    entity = _entity(ctx, kind, name)
    if entity.path != parsed.path:
        raise NotFound(f"The {kind} `{arn}` cannot be found")
    owners: list[tuple[Kind, str]] = [(kind, name)]
    if kind == "user":
        owners += [("group", g.name) for g in ctx.directory.groups.groups_for_user(name)]
    identity = [
        policy
        for owner_kind, owner in owners
        for policy in (
            *inline_policies(ctx, owner_kind, owner),
            *attached_policies(ctx, owner_kind, owner, documents=True),
        )
    ]
    boundary_arn = getattr(entity, "permissions_boundary_arn", None)
    boundary = None
    if boundary_arn is not None:
        text = ctx.directory.policies.default_document(boundary_arn)
        boundary = StoredPolicy(kind, name, boundary_arn.rsplit("/", 1)[-1], text, boundary_arn)
    return PrincipalPolicies(tuple(identity), boundary, arn if kind != "group" else None)


def _entity(ctx: ActionContext, kind: str, name: str) -> Any:
    directory = ctx.directory
    if kind == "user":
        return directory.users.get(name)
    return directory.groups.get(name) if kind == "group" else directory.roles.get(name)


# --- GetAccountAuthorizationDetails -----------------------------------------------------

ENTITY_TYPES = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


@IAM.action(
    "GetAccountAuthorizationDetails",
    Field("Filter", kind="list", choices=ENTITY_TYPES, default=[]),
    *PAGING,
    resource=any_resource,
)
def get_account_authorization_details(ctx: ActionContext, p: Params) -> Result:
    wanted = set(p["Filter"] or ENTITY_TYPES)
    directory = ctx.directory
    items: list[tuple[str, Any]] = [
        *(("User", u) for u in (directory.users.list() if "User" in wanted else [])),
        *(("Group", g) for g in (directory.groups.list() if "Group" in wanted else [])),
        *(("Role", r) for r in (directory.roles.list() if "Role" in wanted else [])),
    ]
    if "LocalManagedPolicy" in wanted:
        items += [("Policy", policy) for policy in directory.policies.list(scope="Local")]
    page, meta = paginate(items, p)
    shapers = {"User": _user_detail, "Group": _group_detail, "Role": _role_detail}
    lists: dict[str, list[Any]] = {"User": [], "Group": [], "Role": [], "Policy": []}
    for kind, entity in page:
        lists[kind].append(shapers.get(kind, _policy_detail)(ctx, entity))
    return {
        "UserDetailList": lists["User"],
        "GroupDetailList": lists["Group"],
        "RoleDetailList": lists["Role"],
        "Policies": lists["Policy"],
        **meta,
    }


def _inline_shapes(ctx: ActionContext, kind: Kind, name: str) -> list[dict[str, str]]:
    return [
        {"PolicyName": p.name, "PolicyDocument": encode_policy(p.document)}
        for p in inline_policies(ctx, kind, name)
    ]


def _attached_shapes(ctx: ActionContext, kind: Kind, name: str) -> list[dict[str, str | None]]:
    return [{"PolicyName": p.name, "PolicyArn": p.arn} for p in attached_policies(ctx, kind, name)]


def _user_detail(ctx: ActionContext, user: Any) -> dict[str, Any]:
    shape = user_shape(ctx, user, full=False)
    del shape["PasswordLastUsed"]
    groups = ctx.directory.groups.groups_for_user(user.name)
    return {
        **shape,
        "UserPolicyList": _inline_shapes(ctx, "user", user.name),
        "GroupList": [group.name for group in groups],
        "AttachedManagedPolicies": _attached_shapes(ctx, "user", user.name),
        "PermissionsBoundary": boundary_shape(user.permissions_boundary_arn),
        "Tags": tags_shape(user.tags),
    }


def _group_detail(ctx: ActionContext, group: Any) -> dict[str, Any]:
    return {
        **group_shape(ctx, group),
        "GroupPolicyList": _inline_shapes(ctx, "group", group.name),
        "AttachedManagedPolicies": _attached_shapes(ctx, "group", group.name),
    }


def _role_detail(ctx: ActionContext, role: Any) -> dict[str, Any]:
    shape = role_shape(ctx, role)
    return {
        **{k: shape[k] for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate")},
        "AssumeRolePolicyDocument": shape["AssumeRolePolicyDocument"],
        "InstanceProfileList": [],
        "RolePolicyList": _inline_shapes(ctx, "role", role.name),
        "AttachedManagedPolicies": _attached_shapes(ctx, "role", role.name),
        "PermissionsBoundary": shape["PermissionsBoundary"],
        "Tags": tags_shape(role.tags),
        "RoleLastUsed": shape["RoleLastUsed"],
    }


def _policy_detail(ctx: ActionContext, policy: Any) -> dict[str, Any]:
    directory = ctx.directory
    arn = directory.policies.arn(policy)
    entities = directory.policies.list_entities(arn)
    bounded = [u.permissions_boundary_arn for u in directory.users.list()]
    bounded += [r.permissions_boundary_arn for r in directory.roles.list()]
    shape = policy_shape(
        ctx,
        policy,
        attachments=len(entities.users) + len(entities.groups) + len(entities.roles),
        boundary_uses=bounded.count(arn),
    )
    del shape["Tags"]
    versions = directory.policies.list_versions(arn)
    shape["PolicyVersionList"] = [version_shape(v, policy.default_version_id) for v in versions]
    return shape


# --- reports kept per app ---------------------------------------------------------------


@dataclass(frozen=True)
class CredentialReport:
    content: bytes
    generated_at: datetime


@dataclass(frozen=True)
class LastAccessedJob:
    granularity: str
    created_at: datetime
    services: tuple[dict[str, Any], ...]


@dataclass
class ReportStore:
    """Credential reports (by account) and last-accessed jobs (by job id) of one process."""

    credential: dict[str, CredentialReport] = field(default_factory=dict)
    jobs: dict[str, LastAccessedJob] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def report_store() -> ReportStore:
    store: ReportStore = current_app.extensions.setdefault("bridge.reports", ReportStore())
    return store


# --- the credential report --------------------------------------------------------------

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
    store, now = report_store(), ctx.services.clock.now()
    with store.lock:
        current = store.credential.get(ctx.account_id)
        if current is not None and now - current.generated_at < REPORT_LIFETIME:
            return {"State": "COMPLETE"}
        store.credential[ctx.account_id] = CredentialReport(_report_csv(ctx), now)
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation"}


@IAM.action("GetCredentialReport", resource=any_resource)
def get_credential_report(ctx: ActionContext, p: Params) -> Result:  # noqa: ARG001
    report = report_store().credential.get(ctx.account_id)
    if report is None:
        raise QueryError("ReportNotPresent", "no credential report exists; generate one", 410)
    if ctx.services.clock.now() - report.generated_at >= REPORT_LIFETIME:
        raise QueryError("ReportExpired", "the credential report is older than four hours", 410)
    return {
        "Content": base64.b64encode(report.content).decode("ascii"),
        "ReportFormat": "text/csv",
        "GeneratedTime": report.generated_at,
    }


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


# --- service last accessed --------------------------------------------------------------

SERVICE_NAMES = {
    "iam": "AWS Identity and Access Management",
    "sts": "AWS Security Token Service",
    "s3": "Amazon S3",
    "ec2": "Amazon EC2",
    "lambda": "AWS Lambda",
    "dynamodb": "Amazon DynamoDB",
    "sqs": "Amazon SQS",
    "sns": "Amazon SNS",
    "kms": "AWS Key Management Service",
    "logs": "Amazon CloudWatch Logs",
    "cloudwatch": "Amazon CloudWatch",
    "secretsmanager": "AWS Secrets Manager",
}
Use = tuple[str, str, datetime, str | None]  # entity arn, service, when, region


@IAM.action(
    "GenerateServiceLastAccessedDetails",
    arn_field("Arn"),
    Field("Granularity", choices=("SERVICE_LEVEL", "ACTION_LEVEL"), default="SERVICE_LEVEL"),
    resource=lambda _ctx, p: str(p["Arn"]),
)
def generate_service_last_accessed_details(ctx: ActionContext, p: Params) -> Result:
    """Computed at once from what the directory records: access keys' and roles' last use."""
    documents, uses = _entity_activity(ctx, p["Arn"])
    services = tuple(_service_entry(ns, uses) for ns in sorted(_namespaces(documents)))
    job_id = str(uuid.UUID(bytes=ctx.services.rng.token_bytes(16), version=4))
    job = LastAccessedJob(p["Granularity"], ctx.services.clock.now(), services)
    store = report_store()
    with store.lock:
        store.jobs[job_id] = job
    return {"JobId": job_id}


@IAM.action(
    "GetServiceLastAccessedDetails",
    Field("JobId", required=True, min_len=36, max_len=36),
    MARKER,
    MAX_ITEMS,
    resource=any_resource,
)
def get_service_last_accessed_details(ctx: ActionContext, p: Params) -> Result:  # noqa: ARG001
    job = report_store().jobs.get(p["JobId"])
    if job is None:
        raise NotFound(f"no service last accessed job has the id `{p['JobId']}`")
    page, meta = paginate(job.services, p)
    return {
        "JobStatus": "COMPLETED",
        "JobType": job.granularity,
        "JobCreationDate": job.created_at,
        "ServicesLastAccessed": list(page),
        "JobCompletionDate": job.created_at,
        **meta,
    }


def _entity_activity(ctx: ActionContext, arn: str) -> tuple[list[str], list[Use]]:
    """The policy documents of a user, group, role or managed policy, and recorded uses."""
    parsed = ids.parse_arn(arn, "Arn")
    if parsed.kind == "policy":
        entities = ctx.directory.policies.list_entities(arn)
        uses = [u for user in entities.users for u in _key_uses(ctx, user)]
        uses += [u for g in entities.groups for u in _group_uses(ctx, g.name)]
        uses += [u for role in entities.roles for u in _role_uses(ctx, role)]
        return [ctx.directory.policies.default_document(arn)], uses
    found = principal_policies(ctx, arn)
    documents = [policy.document for policy in found.identity]
    if parsed.kind == "user":
        return documents, _key_uses(ctx, ctx.directory.users.get(parsed.name))
    if parsed.kind == "group":
        return documents, _group_uses(ctx, parsed.name)
    return documents, _role_uses(ctx, ctx.directory.roles.get(parsed.name))


def _key_uses(ctx: ActionContext, user: User) -> list[Use]:
    arn = ids.entity_arn(ctx.account_id, "user", user.path, user.name)
    return [
        (arn, key.last_used_service, key.last_used_at, key.last_used_region)
        for key in ctx.directory.keys.list(user.name)
        if key.last_used_at is not None and key.last_used_service is not None
    ]


def _group_uses(ctx: ActionContext, group_name: str) -> list[Use]:
    members = ctx.directory.groups.users_in_group(group_name)
    return [use for user in members for use in _key_uses(ctx, user)]


def _role_uses(ctx: ActionContext, role: Any) -> list[Use]:
    """A role's last use is when it was assumed, through STS."""
    if role.last_used_at is None:
        return []
    arn = ids.entity_arn(ctx.account_id, "role", role.path, role.name)
    return [(arn, "sts", role.last_used_at, role.last_used_region)]


def _namespaces(documents: list[str]) -> set[str]:
    """The service prefixes that the documents' Allow statements name (`*` → every known)."""
    found: set[str] = set()
    for document in documents:
        try:
            statements = parse_policy(document, strict=False).statements
        except PolicyError:
            continue
        for statement in statements:
            if statement.effect != "Allow":
                continue
            patterns = ["*"] if statement.not_action else statement.action
            for pattern in patterns:
                prefix = pattern.split(":", 1)[0].lower()
                found |= set(fnmatch.filter(SERVICE_NAMES, prefix)) | (
                    {prefix} if "*" not in prefix and "?" not in prefix else set()
                )
    return found


def _service_entry(namespace: str, uses: list[Use]) -> dict[str, Any]:
    mine = [use for use in uses if use[1] == namespace]
    entry: dict[str, Any] = {
        "ServiceName": SERVICE_NAMES.get(namespace, namespace),
        "ServiceNamespace": namespace,
        "TotalAuthenticatedEntities": len({use[0] for use in mine}),
    }
    if mine:
        entity, _, when, region = max(mine, key=lambda use: use[2])
        entry |= {
            "LastAuthenticated": when,
            "LastAuthenticatedEntity": entity,
            "LastAuthenticatedRegion": region,
        }
    return entry
