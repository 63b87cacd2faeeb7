"""IAM managed policies, versions, attachments, inline policies and user permission boundaries.

Managed-policy actions are judged on the policy ARN (`ListPolicies` on
`policy/<PathPrefix>*`); `Attach*`, `Detach*`, `ListAttached*`, `Put*Policy`,
`Get*Policy`, `Delete*Policy`, `List*Policies` on the user, group or role they change or
read, as in the Service Authorization Reference. The attachment and inline actions are
the same for the three kinds of principal, so one function registers them per kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bridge.directory.lookup import PrincipalKind
from bridge.directory.service import Directory
from bridge.query.iam import (
    IAM,
    PAGING,
    TAGS,
    arn_field,
    document_field,
    name_field,
    paginate,
    policy_shape,
    register_tag_actions,
)
from bridge.query.iam_roles import role_arn
from bridge.query.iam_users import group_arn, user_arn
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.query.xml import encode_policy
from bridge.storage.interfaces import Group, ManagedPolicy, PolicyVersion, Role, User

POLICY_ARN = arn_field("PolicyArn")
POLICY_NAME = name_field("PolicyName", max_len=128)
POLICY_PATH_PATTERN = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/"
POLICY_PATH_PREFIX = Field(
    "PathPrefix", min_len=1, max_len=512, pattern=POLICY_PATH_PATTERN, default="/"
)
VERSION_ID = Field("VersionId", required=True, pattern=r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
USAGE_FILTER = Field("PolicyUsageFilter", choices=("PermissionsPolicy", "PermissionsBoundary"))
ENTITY_FILTER = Field(
    "EntityFilter", choices=("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
)
LISTING_OMITS = ("Tags", "Description")  # ListPolicies returns a subset of `Policy`


def policy_arn(_ctx: ActionContext, p: Params) -> str:
    return str(p["PolicyArn"])


def new_policy_arn(ctx: ActionContext, p: Params) -> str:
    return ctx.arn("policy/", p["Path"], p["PolicyName"])


def all_policies(ctx: ActionContext, p: Params) -> str:
    return ctx.arn("policy/", p["PathPrefix"], "*")


# --- usage counts ------------------------------------------------------------------


def _boundary_uses(directory: Directory) -> Counter[str]:
    """How many users and roles use each policy ARN as their permissions boundary."""
    holders: list[User | Role] = [*directory.users.list(), *directory.roles.list()]
    return Counter(h.permissions_boundary_arn for h in holders if h.permissions_boundary_arn)


def _attachment_count(directory: Directory, arn: str) -> int:
    entities = directory.policies.list_entities(arn)
    return len(entities.users) + len(entities.groups) + len(entities.roles)


def _full_shape(ctx: ActionContext, policy: ManagedPolicy, boundaries: Counter[str]) -> Any:
    arn = ctx.directory.policies.arn(policy)
    attachments = _attachment_count(ctx.directory, arn)
    return policy_shape(ctx, policy, attachments=attachments, boundary_uses=boundaries[arn])


def _in_use(shape: dict[str, Any], usage: str | None) -> bool:
    """`OnlyAttached`: attached as a permissions policy and/or used as a boundary."""
    attached = int(shape["AttachmentCount"]) > 0
    boundary = int(shape["PermissionsBoundaryUsageCount"]) > 0
    if usage == "PermissionsPolicy":
        return attached
    if usage == "PermissionsBoundary":
        return boundary
    return attached or boundary


# --- managed policies --------------------------------------------------------------


@IAM.action(
    "CreatePolicy",
    POLICY_NAME,
    Field("Path", min_len=1, max_len=512, pattern=POLICY_PATH_PATTERN, default="/"),
    document_field(),
    Field("Description", max_len=1000, default=""),
    TAGS,
    resource=new_policy_arn,
)
def create_policy(ctx: ActionContext, p: Params) -> Result:
    policy = ctx.directory.policies.create(
        p["PolicyName"],
        p["PolicyDocument"],
        p["Path"],
        description=p["Description"],
        tags=p["Tags"],
    )
    return {"Policy": policy_shape(ctx, policy, attachments=0, boundary_uses=0)}


@IAM.action("GetPolicy", POLICY_ARN, resource=policy_arn)
def get_policy(ctx: ActionContext, p: Params) -> Result:
    policy = ctx.directory.policies.get(p["PolicyArn"])
    return {"Policy": _full_shape(ctx, policy, _boundary_uses(ctx.directory))}


@IAM.action(
    "ListPolicies",
    Field("Scope", choices=("All", "AWS", "Local"), default="All"),
    Field("OnlyAttached", kind="bool", default=False),
    POLICY_PATH_PREFIX,
    USAGE_FILTER,
    *PAGING,
    resource=all_policies,
)
def list_policies(ctx: ActionContext, p: Params) -> Result:
    """Only customer managed policies exist here, so `Scope=AWS` lists none."""
    policies = ctx.directory.policies.list(scope=p["Scope"], path_prefix=p["PathPrefix"])
    boundaries = _boundary_uses(ctx.directory)
    shapes = [_full_shape(ctx, policy, boundaries) for policy in policies]
    if p["OnlyAttached"]:
        shapes = [s for s in shapes if _in_use(s, p["PolicyUsageFilter"])]
    page, meta = paginate(shapes, p)
    listed = [{k: v for k, v in s.items() if k not in LISTING_OMITS} for s in page]
    return {"Policies": listed, **meta}


@IAM.action("DeletePolicy", POLICY_ARN, resource=policy_arn, has_output=False)
def delete_policy(ctx: ActionContext, p: Params) -> None:
    ctx.directory.policies.delete(p["PolicyArn"])


def _version_summary(version: PolicyVersion, is_default: bool) -> dict[str, Any]:
    """A version without its document, as CreatePolicyVersion and ListPolicyVersions give it."""
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": is_default,
        "CreateDate": version.created_at,
    }


@IAM.action("GetPolicyVersion", POLICY_ARN, VERSION_ID, resource=policy_arn)
def get_policy_version(ctx: ActionContext, p: Params) -> Result:
    version = ctx.directory.policies.get_version(p["PolicyArn"], p["VersionId"])
    default = ctx.directory.policies.get(p["PolicyArn"]).default_version_id
    shape = {
        "Document": encode_policy(version.document),
        **_version_summary(version, version.version_id == default),
    }
    return {"PolicyVersion": shape}


@IAM.action(
    "CreatePolicyVersion",
    POLICY_ARN,
    document_field(),
    Field("SetAsDefault", kind="bool", default=False),
    resource=policy_arn,
)
def create_policy_version(ctx: ActionContext, p: Params) -> Result:
    version = ctx.directory.policies.create_version(
        p["PolicyArn"], p["PolicyDocument"], set_as_default=p["SetAsDefault"]
    )
    return {"PolicyVersion": _version_summary(version, p["SetAsDefault"])}


@IAM.action(
    "SetDefaultPolicyVersion", POLICY_ARN, VERSION_ID, resource=policy_arn, has_output=False
)
def set_default_policy_version(ctx: ActionContext, p: Params) -> None:
    ctx.directory.policies.set_default_version(p["PolicyArn"], p["VersionId"])


@IAM.action("ListPolicyVersions", POLICY_ARN, *PAGING, resource=policy_arn)
def list_policy_versions(ctx: ActionContext, p: Params) -> Result:
    """Newest first, as IAM lists them."""
    default = ctx.directory.policies.get(p["PolicyArn"]).default_version_id
    versions = ctx.directory.policies.list_versions(p["PolicyArn"])[::-1]
    page, meta = paginate(versions, p)
    return {"Versions": [_version_summary(v, v.version_id == default) for v in page], **meta}


@IAM.action("DeletePolicyVersion", POLICY_ARN, VERSION_ID, resource=policy_arn, has_output=False)
def delete_policy_version(ctx: ActionContext, p: Params) -> None:
    ctx.directory.policies.delete_version(p["PolicyArn"], p["VersionId"])


register_tag_actions("Policy", POLICY_ARN, policy_arn, lambda ctx: ctx.directory.policies)


# --- who uses a policy -------------------------------------------------------------

Entity = User | Group | Role


def _entity_row(entity: Entity) -> tuple[str, dict[str, str]]:
    """The result list and member an entity goes to in `ListEntitiesForPolicy`."""
    if isinstance(entity, User):
        return "PolicyUsers", {"UserName": entity.name, "UserId": entity.user_id}
    if isinstance(entity, Group):
        return "PolicyGroups", {"GroupName": entity.name, "GroupId": entity.group_id}
    return "PolicyRoles", {"RoleName": entity.name, "RoleId": entity.role_id}


def _entities_using(directory: Directory, arn: str, usage: str | None) -> list[Entity]:
    """Attached entities (`PermissionsPolicy`), boundary holders (`PermissionsBoundary`) or both."""
    found: list[Entity] = []
    if usage in (None, "PermissionsPolicy"):
        entities = directory.policies.list_entities(arn)
        found += [*entities.users, *entities.groups, *entities.roles]
    if usage in (None, "PermissionsBoundary"):
        canonical = directory.policies.arn(directory.policies.get(arn))
        holders: Iterable[User | Role] = [*directory.users.list(), *directory.roles.list()]
        found += [h for h in holders if h.permissions_boundary_arn == canonical and h not in found]
    return found


_ENTITY_TYPES: dict[str, tuple[type, ...]] = {"User": (User,), "Group": (Group,), "Role": (Role,)}


@IAM.action(
    "ListEntitiesForPolicy",
    POLICY_ARN,
    ENTITY_FILTER,
    Field("PathPrefix", min_len=1, max_len=512, pattern=r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"),
    USAGE_FILTER,
    *PAGING,
    resource=policy_arn,
)
def list_entities_for_policy(ctx: ActionContext, p: Params) -> Result:
    entities = _entities_using(ctx.directory, p["PolicyArn"], p["PolicyUsageFilter"])
    kind = p["EntityFilter"]  # the policy kinds list nothing: policies attach to no policy
    wanted = _ENTITY_TYPES.get(kind, ()) if kind else (User, Group, Role)
    prefix = p["PathPrefix"] or "/"
    chosen = [e for e in entities if isinstance(e, wanted) and e.path.startswith(prefix)]
    page, meta = paginate(chosen, p)
    result: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for entity in page:
        key, row = _entity_row(entity)
        result[key].append(row)
    return {**result, **meta}


# --- attachments and inline policies, per kind of principal ------------------------


@dataclass(frozen=True)
class PrincipalActions:
    """What differs between the user, group and role forms of the same actions."""

    kind: PrincipalKind
    title: str  # "User", as in `AttachUserPolicy`
    name: Field  # the principal's name parameter

    @property
    def inline_name(self) -> Field:
        """Inline-policy actions accept existing user names of up to 128 characters."""
        return replace(self.name, max_len=128) if self.kind == "user" else self.name

    def resource(self, ctx: ActionContext, p: Params) -> str:
        resources = {"user": user_arn, "group": group_arn, "role": role_arn}
        return resources[self.kind](ctx, p)

    def stored_name(self, directory: Directory, name: str) -> str:
        """The name as stored (lookups ignore case)."""
        if self.kind == "user":
            return directory.users.get(name).name
        if self.kind == "group":
            return directory.groups.get(name).name
        return directory.roles.get(name).name


def _register_attachments(k: PrincipalActions) -> None:
    key = k.name.name

    @IAM.action(f"Attach{k.title}Policy", k.name, POLICY_ARN, resource=k.resource, has_output=False)
    def attach(ctx: ActionContext, p: Params) -> None:
        ctx.directory.attachments.attach(k.kind, p[key], p["PolicyArn"])

    @IAM.action(f"Detach{k.title}Policy", k.name, POLICY_ARN, resource=k.resource, has_output=False)
    def detach(ctx: ActionContext, p: Params) -> None:
        ctx.directory.attachments.detach(k.kind, p[key], p["PolicyArn"])

    @IAM.action(
        f"ListAttached{k.title}Policies", k.name, POLICY_PATH_PREFIX, *PAGING, resource=k.resource
    )
    def list_attached(ctx: ActionContext, p: Params) -> Result:
        attached = ctx.directory.attachments.list_attached(k.kind, p[key])
        chosen = [x for x in attached if x.path.startswith(p["PathPrefix"])]
        page, meta = paginate(chosen, p)
        rows = [{"PolicyName": x.name, "PolicyArn": ctx.directory.policies.arn(x)} for x in page]
        return {"AttachedPolicies": rows, **meta}


def _register_inline(k: PrincipalActions) -> None:
    key = k.inline_name.name
    fields = (k.inline_name, POLICY_NAME)

    @IAM.action(
        f"Put{k.title}Policy", *fields, document_field(), resource=k.resource, has_output=False
    )
    def put(ctx: ActionContext, p: Params) -> None:
        ctx.directory.inline_policies.put(k.kind, p[key], p["PolicyName"], p["PolicyDocument"])

    @IAM.action(f"Get{k.title}Policy", *fields, resource=k.resource)
    def get(ctx: ActionContext, p: Params) -> Result:
        policy = ctx.directory.inline_policies.get(k.kind, p[key], p["PolicyName"])
        return {
            key: k.stored_name(ctx.directory, p[key]),
            "PolicyName": policy.name,
            "PolicyDocument": encode_policy(policy.document),
        }

    @IAM.action(f"Delete{k.title}Policy", *fields, resource=k.resource, has_output=False)
    def delete(ctx: ActionContext, p: Params) -> None:
        ctx.directory.inline_policies.delete(k.kind, p[key], p["PolicyName"])

    @IAM.action(f"List{k.title}Policies", k.inline_name, *PAGING, resource=k.resource)
    def list_names(ctx: ActionContext, p: Params) -> Result:
        page, meta = paginate(ctx.directory.inline_policies.list(k.kind, p[key]), p)
        return {"PolicyNames": list(page), **meta}


PRINCIPALS = (
    PrincipalActions("user", "User", name_field("UserName")),
    PrincipalActions("group", "Group", name_field("GroupName", max_len=128)),
    PrincipalActions("role", "Role", name_field("RoleName")),
)


def _register_principal_actions() -> None:
    for principal in PRINCIPALS:
        _register_attachments(principal)
        _register_inline(principal)


_register_principal_actions()


# --- user permission boundaries (role boundaries are in iam_roles.py) --------------


@IAM.action(
    "PutUserPermissionsBoundary",
    name_field("UserName"),
    arn_field("PermissionsBoundary"),
    resource=user_arn,
    has_output=False,
)
def put_user_permissions_boundary(ctx: ActionContext, p: Params) -> None:
    ctx.directory.users.put_permissions_boundary(p["UserName"], p["PermissionsBoundary"])


@IAM.action(
    "DeleteUserPermissionsBoundary", name_field("UserName"), resource=user_arn, has_output=False
)
def delete_user_permissions_boundary(ctx: ActionContext, p: Params) -> None:
    ctx.directory.users.delete_permissions_boundary(p["UserName"])
