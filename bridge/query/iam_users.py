"""IAM users and groups: Create/Get/Update/Delete/List, tags, memberships."""

from __future__ import annotations

from bridge.errors import NotFound
from bridge.query.iam import (
    IAM,
    PAGING,
    TAGS,
    arn_field,
    group_shape,
    name_field,
    paginate,
    path_field,
    register_tag_actions,
    user_shape,
)
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result

USER_NAME = name_field("UserName")
GROUP_NAME = name_field("GroupName", max_len=128)
PATH_PREFIX = Field(
    "PathPrefix", min_len=1, max_len=512, pattern=r"\u002F[\u0021-\u007F]*", default="/"
)


def user_arn(ctx: ActionContext, p: Params) -> str:
    """The user named in the request (default: the caller), at its path when it exists."""
    name = p.get("UserName") or (ctx.caller.name if ctx.caller else None) or ""
    try:
        path = ctx.directory.users.get(name).path
    except NotFound:
        path = p.get("Path") or "/"
    return ctx.arn("user/", path, name)


def group_arn(ctx: ActionContext, p: Params) -> str:
    name = p["GroupName"]
    try:
        path = ctx.directory.groups.get(name).path
    except NotFound:
        path = p.get("Path") or "/"
    return ctx.arn("group/", path, name)


def all_users(ctx: ActionContext, p: Params) -> str:
    return ctx.arn("user/", p.get("PathPrefix") or "/", "*")


def all_groups(ctx: ActionContext, p: Params) -> str:
    return ctx.arn("group/", p.get("PathPrefix") or "/", "*")


@IAM.action(
    "CreateUser",
    USER_NAME,
    path_field(),
    arn_field("PermissionsBoundary", required=False),
    TAGS,
    resource=user_arn,
)
def create_user(ctx: ActionContext, p: Params) -> Result:
    user = ctx.directory.users.create(
        p["UserName"], p["Path"], tags=p["Tags"], permissions_boundary=p["PermissionsBoundary"]
    )
    return {"User": user_shape(ctx, user)}


@IAM.action("GetUser", name_field("UserName", required=False, max_len=128), resource=user_arn)
def get_user(ctx: ActionContext, p: Params) -> Result:
    name = p["UserName"]
    if name is None:
        caller = ctx.require_caller()
        if caller.is_root:
            return {"User": _root_shape(ctx)}
        name = caller.name
    return {"User": user_shape(ctx, ctx.directory.users.get(name or ""))}


def _root_shape(ctx: ActionContext) -> Result:
    account = ctx.directory.account.get()
    return {
        "UserId": ctx.account_id,
        "Arn": f"arn:aws:iam::{ctx.account_id}:root",
        "CreateDate": account.created_at,
    }


@IAM.action("ListUsers", PATH_PREFIX, *PAGING, resource=all_users)
def list_users(ctx: ActionContext, p: Params) -> Result:
    users = ctx.directory.users.list(p["PathPrefix"])
    page, meta = paginate(users, p)
    return {"Users": [user_shape(ctx, u, full=False) for u in page], **meta}


@IAM.action(
    "UpdateUser",
    USER_NAME,
    name_field("NewUserName", required=False),
    Field("NewPath", min_len=1, max_len=512, pattern=r"(\u002F)|(\u002F[\u0021-\u007F]+\u002F)"),
    resource=user_arn,
    has_output=False,
)
def update_user(ctx: ActionContext, p: Params) -> None:
    ctx.directory.users.update(p["UserName"], new_name=p["NewUserName"], new_path=p["NewPath"])


@IAM.action("DeleteUser", USER_NAME, resource=user_arn, has_output=False)
def delete_user(ctx: ActionContext, p: Params) -> None:
    ctx.directory.users.delete(p["UserName"])


register_tag_actions("User", USER_NAME, user_arn, lambda ctx: ctx.directory.users)


@IAM.action("CreateGroup", GROUP_NAME, path_field(), resource=group_arn)
def create_group(ctx: ActionContext, p: Params) -> Result:
    return {"Group": group_shape(ctx, ctx.directory.groups.create(p["GroupName"], p["Path"]))}


@IAM.action("GetGroup", GROUP_NAME, *PAGING, resource=group_arn)
def get_group(ctx: ActionContext, p: Params) -> Result:
    group = ctx.directory.groups.get(p["GroupName"])
    users, meta = paginate(ctx.directory.groups.users_in_group(p["GroupName"]), p)
    return {
        "Group": group_shape(ctx, group),
        "Users": [user_shape(ctx, u, full=False) for u in users],
        **meta,
    }


@IAM.action("ListGroups", PATH_PREFIX, *PAGING, resource=all_groups)
def list_groups(ctx: ActionContext, p: Params) -> Result:
    page, meta = paginate(ctx.directory.groups.list(p["PathPrefix"]), p)
    return {"Groups": [group_shape(ctx, g) for g in page], **meta}


@IAM.action(
    "UpdateGroup",
    GROUP_NAME,
    name_field("NewGroupName", required=False, max_len=128),
    Field("NewPath", min_len=1, max_len=512, pattern=r"(\u002F)|(\u002F[\u0021-\u007F]+\u002F)"),
    resource=group_arn,
    has_output=False,
)
def update_group(ctx: ActionContext, p: Params) -> None:
    ctx.directory.groups.update(p["GroupName"], new_name=p["NewGroupName"], new_path=p["NewPath"])


@IAM.action("DeleteGroup", GROUP_NAME, resource=group_arn, has_output=False)
def delete_group(ctx: ActionContext, p: Params) -> None:
    ctx.directory.groups.delete(p["GroupName"])


@IAM.action("AddUserToGroup", GROUP_NAME, USER_NAME, resource=group_arn, has_output=False)
def add_user_to_group(ctx: ActionContext, p: Params) -> None:
    ctx.directory.groups.add_user(p["GroupName"], p["UserName"])


@IAM.action("RemoveUserFromGroup", GROUP_NAME, USER_NAME, resource=group_arn, has_output=False)
def remove_user_from_group(ctx: ActionContext, p: Params) -> None:
    ctx.directory.groups.remove_user(p["GroupName"], p["UserName"])


@IAM.action("ListGroupsForUser", USER_NAME, *PAGING, resource=user_arn)
def list_groups_for_user(ctx: ActionContext, p: Params) -> Result:
    page, meta = paginate(ctx.directory.groups.groups_for_user(p["UserName"]), p)
    return {"Groups": [group_shape(ctx, g) for g in page], **meta}
