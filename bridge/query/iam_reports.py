"""IAM account authorization details and the per-app store of reports and jobs.

Also the reads the simulator shares: an entity's stored policies (`principal_policies`).
Reports and last-accessed jobs are generated synchronously and kept in the store
(`uow.report_jobs`), so every instance sharing the database answers for a job started
at another. The credential report is in
`iam_credential_report`, service last accessed in `iam_last_accessed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bridge.directory import ids
from bridge.errors import InvalidInput, NotFound
from bridge.query.iam import (
    IAM,
    PAGING,
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
from bridge.storage.report_jobs import ReportJob

Kind = Literal["user", "group", "role"]


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


# --- report jobs, kept in the store so any instance answers for them ----------------

JOB_RETENTION = timedelta(days=1)


def save_job(ctx: ActionContext, job: ReportJob) -> None:
    """Store the job (replacing one with the same id) and drop expired ones."""
    with ctx.services.store.transaction() as uow:
        uow.report_jobs.purge(ctx.services.clock.now())
        uow.report_jobs.put(job)


def load_job(ctx: ActionContext, job_id: str) -> ReportJob | None:
    with ctx.services.store.transaction() as uow:
        return uow.report_jobs.get(job_id, ctx.services.clock.now())


def encode_content(value: Any) -> str:
    """JSON text with datetimes tagged, so `decode_content` gives them back as datetimes."""
    return json.dumps(value, default=_tag_datetime, sort_keys=True)


def decode_content(text: str) -> Any:
    return json.loads(text, object_hook=_untag_datetime)


def _tag_datetime(value: object) -> dict[str, str]:
    if isinstance(value, datetime):
        return {_DATETIME_TAG: value.isoformat()}
    raise TypeError(f"cannot store a `{type(value).__name__}` in a report job")


def _untag_datetime(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DATETIME_TAG in obj:
        return datetime.fromisoformat(obj[_DATETIME_TAG])
    return obj


_DATETIME_TAG = "$datetime"
