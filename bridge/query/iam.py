"""The IAM registry, its common parameters, result shapes and pagination.

Actions live in `iam_<area>.py` modules that register on `IAM`; `actions.py` imports
them all. Shapes follow the IAM model (contract §4): policy documents URL-encoded,
timestamps ISO 8601, lists as members.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from bridge.query.errors import QueryError
from bridge.query.params import ARN_PATTERN, NAME_PATTERN, PATH_PATTERN, POLICY_PATTERN, Field
from bridge.query.registry import ActionContext, Params, Registry, ResourceOf, Result
from bridge.query.xml import encode_policy
from bridge.storage.interfaces import Group, ManagedPolicy, PolicyVersion, Role, Tag, User

IAM = Registry("iam")

T = TypeVar("T")


def name_field(name: str, *, required: bool = True, max_len: int = 64) -> Field:
    return Field(name, required=required, min_len=1, max_len=max_len, pattern=NAME_PATTERN)


def path_field(name: str = "Path") -> Field:
    return Field(name, min_len=1, max_len=512, pattern=PATH_PATTERN, default="/")


def arn_field(name: str, *, required: bool = True) -> Field:
    return Field(name, required=required, min_len=20, max_len=2048, pattern=ARN_PATTERN)


def document_field(name: str = "PolicyDocument", *, required: bool = True) -> Field:
    return Field(name, required=required, min_len=1, max_len=131072, pattern=POLICY_PATTERN)


TAGS = Field("Tags", kind="tags", default=[])
MARKER = Field("Marker", min_len=1, max_len=320, pattern=r"[\u0020-\u00FF]+")
MAX_ITEMS = Field("MaxItems", kind="int", low=1, high=1000, default=100)
PAGING = (MARKER, MAX_ITEMS)


def tags_shape(tags: Sequence[Tag]) -> list[dict[str, str]]:
    return [{"Key": tag.key, "Value": tag.value} for tag in tags]


def boundary_shape(arn: str | None) -> dict[str, str] | None:
    if arn is None:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def user_shape(ctx: ActionContext, user: User, *, full: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": ctx.arn("user/", user.path, user.name),
        "CreateDate": user.created_at,
        "PasswordLastUsed": user.password_last_used,
    }
    if full:
        shape["PermissionsBoundary"] = boundary_shape(user.permissions_boundary_arn)
        shape["Tags"] = tags_shape(user.tags) or None
    return shape


def group_shape(ctx: ActionContext, group: Group) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": ctx.arn("group/", group.path, group.name),
        "CreateDate": group.created_at,
    }


def role_shape(ctx: ActionContext, role: Role, *, full: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": ctx.arn("role/", role.path, role.name),
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": encode_policy(role.trust_policy),
        "Description": role.description or None,
        "MaxSessionDuration": role.max_session_duration,
    }
    if full:
        shape["PermissionsBoundary"] = boundary_shape(role.permissions_boundary_arn)
        shape["Tags"] = tags_shape(role.tags) or None
        shape["RoleLastUsed"] = {"LastUsedDate": role.last_used_at, "Region": role.last_used_region}
    return shape


def policy_shape(
    ctx: ActionContext, policy: ManagedPolicy, *, attachments: int, boundary_uses: int
) -> dict[str, Any]:
    return {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": ctx.arn("policy/", policy.path, policy.name),
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses,
        "IsAttachable": True,
        "Description": policy.description or None,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
        "Tags": tags_shape(policy.tags) or None,
    }


def version_shape(version: PolicyVersion, default_version_id: str) -> dict[str, Any]:
    return {
        "Document": encode_policy(version.document),
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == default_version_id,
        "CreateDate": version.created_at,
    }


def paginate(items: Sequence[T], params: dict[str, Any]) -> tuple[Sequence[T], Result]:
    """IAM pagination: `Marker` in (opaque), `IsTruncated` and the next `Marker` out."""
    start = _decode_marker(params.get("Marker"))
    size = int(params.get("MaxItems") or 100)
    page = items[start : start + size]
    truncated = start + size < len(items)
    meta: dict[str, Any] = {"IsTruncated": truncated}
    if truncated:
        meta["Marker"] = base64.urlsafe_b64encode(f"o:{start + size}".encode()).decode()
    return page, meta


def _decode_marker(marker: str | None) -> int:
    if not marker:
        return 0
    try:
        text = base64.urlsafe_b64decode(marker.encode()).decode()
        kind, _, offset = text.partition(":")
        if kind != "o" or not offset.isdigit():
            raise ValueError(text)
        return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise QueryError(
            "InvalidInput", f"the Marker `{marker}` is not one this API returned"
        ) from None


class Taggable(Protocol):
    """A directory service whose entities carry tags (users, roles, managed policies)."""

    def tag(self, name: str, tags: Sequence[Tag]) -> None: ...

    def untag(self, name: str, keys: Sequence[str]) -> None: ...

    def list_tags(self, name: str) -> tuple[Tag, ...]: ...


TAG_KEYS = Field("TagKeys", kind="list", required=True, min_len=1, max_len=128)
NEW_TAGS = Field("Tags", kind="tags", required=True)


def register_tag_actions(
    title: str, key: Field, resource: ResourceOf, service: Callable[[ActionContext], Taggable]
) -> None:
    """`Tag<Title>`, `Untag<Title>` and `List<Title>Tags`, keyed by the `key` parameter."""

    def tag(ctx: ActionContext, p: Params) -> None:
        service(ctx).tag(p[key.name], p["Tags"])

    def untag(ctx: ActionContext, p: Params) -> None:
        service(ctx).untag(p[key.name], p["TagKeys"])

    def list_tags(ctx: ActionContext, p: Params) -> Result:
        page, meta = paginate(list(service(ctx).list_tags(p[key.name])), p)
        return {"Tags": tags_shape(page), **meta}

    IAM.action(f"Tag{title}", key, NEW_TAGS, resource=resource, has_output=False)(tag)
    IAM.action(f"Untag{title}", key, TAG_KEYS, resource=resource, has_output=False)(untag)
    IAM.action(f"List{title}Tags", key, *PAGING, resource=resource)(list_tags)
