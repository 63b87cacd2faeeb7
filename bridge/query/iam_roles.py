"""IAM roles: Create/Get/Update/Delete/List, trust policy, tags and permissions boundary.

Each action is judged on the role's ARN (`arn:aws:iam::<acct>:role/<path><name>`), as in
the Service Authorization Reference; `ListRoles` on `role/<PathPrefix>*`.
"""

from __future__ import annotations

from bridge.errors import NotFound
from bridge.query.iam import (
    IAM,
    PAGING,
    TAGS,
    arn_field,
    document_field,
    name_field,
    paginate,
    path_field,
    register_tag_actions,
    role_shape,
)
from bridge.query.iam_users import PATH_PREFIX
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result

ROLE_NAME = name_field("RoleName")
DESCRIPTION_PATTERN = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"
DESCRIPTION = Field("Description", max_len=1000, pattern=DESCRIPTION_PATTERN)
MAX_SESSION_DURATION = Field("MaxSessionDuration", kind="int", low=3600, high=43200)


def role_arn(ctx: ActionContext, p: Params) -> str:
    """The role named in the request, at its path when it exists (else the requested path)."""
    name = p["RoleName"]
    try:
        path = ctx.directory.roles.get(name).path
    except NotFound:
        path = p.get("Path") or "/"
    return ctx.arn("role/", path, name)


def all_roles(ctx: ActionContext, p: Params) -> str:
    return ctx.arn("role/", p.get("PathPrefix") or "/", "*")


@IAM.action(
    "CreateRole",
    ROLE_NAME,
    document_field("AssumeRolePolicyDocument"),
    path_field(),
    DESCRIPTION,
    MAX_SESSION_DURATION,
    arn_field("PermissionsBoundary", required=False),
    TAGS,
    resource=role_arn,
)
def create_role(ctx: ActionContext, p: Params) -> Result:
    role = ctx.directory.roles.create(
        p["RoleName"],
        p["AssumeRolePolicyDocument"],
        p["Path"],
        description=p["Description"] or "",
        max_session_duration=p["MaxSessionDuration"] or 3600,
        permissions_boundary=p["PermissionsBoundary"],
        tags=p["Tags"],
    )
    return {"Role": role_shape(ctx, role)}


@IAM.action("GetRole", ROLE_NAME, resource=role_arn)
def get_role(ctx: ActionContext, p: Params) -> Result:
    return {"Role": role_shape(ctx, ctx.directory.roles.get(p["RoleName"]))}


@IAM.action("ListRoles", PATH_PREFIX, *PAGING, resource=all_roles)
def list_roles(ctx: ActionContext, p: Params) -> Result:
    page, meta = paginate(ctx.directory.roles.list(p["PathPrefix"]), p)
    return {"Roles": [role_shape(ctx, role, full=False) for role in page], **meta}


@IAM.action("UpdateRole", ROLE_NAME, DESCRIPTION, MAX_SESSION_DURATION, resource=role_arn)
def update_role(ctx: ActionContext, p: Params) -> Result:
    """Only the parameters given change; the result is empty (`UpdateRoleResult`)."""
    ctx.directory.roles.update(
        p["RoleName"],
        description=p["Description"],
        max_session_duration=p["MaxSessionDuration"],
    )
    return {}


@IAM.action(
    "UpdateRoleDescription",
    ROLE_NAME,
    Field("Description", required=True, max_len=1000, pattern=DESCRIPTION_PATTERN),
    resource=role_arn,
)
def update_role_description(ctx: ActionContext, p: Params) -> Result:
    role = ctx.directory.roles.update(p["RoleName"], description=p["Description"])
    return {"Role": role_shape(ctx, role)}


@IAM.action(
    "UpdateAssumeRolePolicy",
    ROLE_NAME,
    document_field("PolicyDocument"),
    resource=role_arn,
    has_output=False,
)
def update_assume_role_policy(ctx: ActionContext, p: Params) -> None:
    ctx.directory.roles.update_trust_policy(p["RoleName"], p["PolicyDocument"])


@IAM.action("DeleteRole", ROLE_NAME, resource=role_arn, has_output=False)
def delete_role(ctx: ActionContext, p: Params) -> None:
    ctx.directory.roles.delete(p["RoleName"])


register_tag_actions("Role", ROLE_NAME, role_arn, lambda ctx: ctx.directory.roles)


@IAM.action(
    "PutRolePermissionsBoundary",
    ROLE_NAME,
    arn_field("PermissionsBoundary"),
    resource=role_arn,
    has_output=False,
)
def put_role_permissions_boundary(ctx: ActionContext, p: Params) -> None:
    ctx.directory.roles.put_permissions_boundary(p["RoleName"], p["PermissionsBoundary"])


@IAM.action("DeleteRolePermissionsBoundary", ROLE_NAME, resource=role_arn, has_output=False)
def delete_role_permissions_boundary(ctx: ActionContext, p: Params) -> None:
    ctx.directory.roles.delete_permissions_boundary(p["RoleName"])
