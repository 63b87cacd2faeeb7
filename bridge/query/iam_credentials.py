"""IAM access keys, login profiles and the account password policy.

Actions that take an optional `UserName` act on the caller when it is left out; for
the root account that means its own access keys and MFA devices (IAM allows root
access keys but advises against them). The virtual MFA actions are in `iam_mfa`.
"""

from __future__ import annotations

from typing import Any

from bridge.directory import ids
from bridge.directory.passwords import PasswordPolicy
from bridge.errors import AccessDenied, AuthenticationFailed, NotFound
from bridge.query.errors import QueryError
from bridge.query.iam import IAM, PAGING, name_field, paginate
from bridge.query.iam_providers import aws_field_names
from bridge.query.params import POLICY_PATTERN, Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.storage.interfaces import AccessKey, LoginProfile

EXISTING_USER = name_field("UserName", required=False, max_len=128)
ACCESS_KEY_ID = Field("AccessKeyId", required=True, min_len=16, max_len=128, pattern=r"[\w]+")
NOT_USED = "N/A"


def target(ctx: ActionContext, p: Params) -> str | None:
    """The user the request names, default the caller; None is the root account."""
    name: str | None = p.get("UserName")
    if name:
        return name
    caller = ctx.require_caller()
    return None if caller.is_root else caller.name


def _user_target(ctx: ActionContext, p: Params) -> str:
    """Like `target`, for actions that only IAM users have (login profiles)."""
    name = target(ctx, p)
    if name is None:
        raise QueryError(
            "ValidationError", "the root account has no login profile here; name a user in UserName"
        )
    return name


def _user_arn(ctx: ActionContext, name: str) -> str:
    try:
        path = ctx.directory.users.get(name).path
    except NotFound:
        path = "/"
    return ids.entity_arn(ctx.account_id, "user", path, name)


def owner_arn(ctx: ActionContext, p: Params) -> str:
    """The user named (or the caller), or the root account's ARN."""
    name = target(ctx, p)
    return ids.root_arn(ctx.account_id) if name is None else _user_arn(ctx, name)


def account_wide(_ctx: ActionContext, _p: Params) -> str:
    return "*"


# --- access keys ---------------------------------------------------------------


def _key_shape(key: AccessKey, user_name: str | None) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }


@IAM.action("CreateAccessKey", EXISTING_USER, resource=owner_arn)
def create_access_key(ctx: ActionContext, p: Params) -> Result:
    created = ctx.directory.keys.create(target(ctx, p))
    shape = _key_shape(created.key, created.user_name)
    return {"AccessKey": {**shape, "SecretAccessKey": created.secret_access_key}}


@IAM.action("ListAccessKeys", EXISTING_USER, *PAGING, resource=owner_arn)
def list_access_keys(ctx: ActionContext, p: Params) -> Result:
    name = target(ctx, p)
    if name is not None:
        name = ctx.directory.users.get(name).name
    page, meta = paginate(ctx.directory.keys.list(name), p)
    return {"AccessKeyMetadata": [_key_shape(key, name) for key in page], **meta}


@IAM.action(
    "UpdateAccessKey",
    EXISTING_USER,
    ACCESS_KEY_ID,
    Field("Status", required=True, choices=("Active", "Inactive", "Expired")),
    resource=owner_arn,
    has_output=False,
)
def update_access_key(ctx: ActionContext, p: Params) -> None:
    name, key_id, status = target(ctx, p), p["AccessKeyId"], p["Status"]
    with aws_field_names({"status": "Status"}):
        ctx.directory.keys.update_status(name, key_id, status)


@IAM.action("DeleteAccessKey", EXISTING_USER, ACCESS_KEY_ID, resource=owner_arn, has_output=False)
def delete_access_key(ctx: ActionContext, p: Params) -> None:
    ctx.directory.keys.delete(target(ctx, p), p["AccessKeyId"])


def key_owner_arn(ctx: ActionContext, p: Params) -> str:
    """The owner of the key (a user, or root); `user/*` when the key is unknown."""
    try:
        owner, _key = ctx.directory.keys.last_used(p["AccessKeyId"])
    except NotFound:
        return ids.entity_arn(ctx.account_id, "user", "/", "*")
    return ids.root_arn(ctx.account_id) if owner is None else _user_arn(ctx, owner)


@IAM.action("GetAccessKeyLastUsed", ACCESS_KEY_ID, resource=key_owner_arn)
def get_access_key_last_used(ctx: ActionContext, p: Params) -> Result:
    """`N/A` for the service and region of a key never used, as IAM."""
    owner, key = ctx.directory.keys.last_used(p["AccessKeyId"])
    return {
        "UserName": owner,
        "AccessKeyLastUsed": {
            "LastUsedDate": key.last_used_at,
            "ServiceName": key.last_used_service or NOT_USED,
            "Region": key.last_used_region or NOT_USED,
        },
    }


# --- login profiles and passwords ----------------------------------------------


def password_field(name: str, *, required: bool = True) -> Field:
    """No limits here: `check_password_param` checks them without echoing the password."""
    return Field(name, required=required)


def check_password_param(name: str, value: str | None) -> None:
    """IAM's length and character limits; the message names the parameter, never the value."""
    if value is None:
        return
    where = f"1 validation error detected: Value at '{name[:1].lower() + name[1:]}' failed to "
    if len(value) > 128:
        rule = "Member must have length less than or equal to 128"
    elif not all(c in "\t\n\r" or " " <= c <= "\u00ff" for c in value):
        rule = f"Member must satisfy regular expression pattern: {POLICY_PATTERN}"
    else:
        return
    raise QueryError("ValidationError", where + "satisfy constraint: " + rule)


def _profile_shape(name: str, profile: LoginProfile) -> dict[str, Any]:
    return {
        "LoginProfile": {
            "UserName": name,
            "CreateDate": profile.created_at,
            "PasswordResetRequired": profile.password_reset_required,
        }
    }


@IAM.action(
    "CreateLoginProfile",
    name_field("UserName", required=False),
    password_field("Password"),
    Field("PasswordResetRequired", kind="bool", default=False),
    resource=owner_arn,
)
def create_login_profile(ctx: ActionContext, p: Params) -> Result:
    check_password_param("Password", p["Password"])
    name = ctx.directory.users.get(_user_target(ctx, p)).name
    profile = ctx.directory.login_profiles.create(
        name, p["Password"], password_reset_required=p["PasswordResetRequired"]
    )
    return _profile_shape(name, profile)


@IAM.action("GetLoginProfile", name_field("UserName", required=False), resource=owner_arn)
def get_login_profile(ctx: ActionContext, p: Params) -> Result:
    name = ctx.directory.users.get(_user_target(ctx, p)).name
    return _profile_shape(name, ctx.directory.login_profiles.get(name))


@IAM.action(
    "UpdateLoginProfile",
    name_field("UserName"),
    password_field("Password", required=False),
    Field("PasswordResetRequired", kind="bool"),
    resource=owner_arn,
    has_output=False,
)
def update_login_profile(ctx: ActionContext, p: Params) -> None:
    check_password_param("Password", p["Password"])
    ctx.directory.login_profiles.update(
        p["UserName"],
        password=p["Password"],
        password_reset_required=p["PasswordResetRequired"],
    )


@IAM.action(
    "DeleteLoginProfile",
    name_field("UserName", required=False),
    resource=owner_arn,
    has_output=False,
)
def delete_login_profile(ctx: ActionContext, p: Params) -> None:
    ctx.directory.login_profiles.delete(_user_target(ctx, p))


@IAM.action(
    "ChangePassword", password_field("OldPassword"), password_field("NewPassword"), has_output=False
)
def change_password(ctx: ActionContext, p: Params) -> None:
    """A user changes their own password: allowed to every user by the password policy's
    `AllowUsersToChangePassword`, otherwise only with `iam:ChangePassword` on themselves."""
    check_password_param("OldPassword", p["OldPassword"])
    check_password_param("NewPassword", p["NewPassword"])
    caller = ctx.require_caller()
    if caller.is_root or caller.name is None:
        raise QueryError(
            "InvalidUserType", "only an IAM user can change its password with ChangePassword"
        )
    if not ctx.directory.account.password_policy().allow_users_to_change_password:
        ctx.authorize("iam:ChangePassword", caller.arn)
    try:
        ctx.directory.login_profiles.change_password(
            caller.name, p["OldPassword"], p["NewPassword"]
        )
    except AuthenticationFailed:
        raise AccessDenied("the old password is incorrect") from None


# --- account password policy ---------------------------------------------------

POLICY_FIELDS = (
    Field("MinimumPasswordLength", kind="int", low=6, high=128, default=6),
    Field("RequireSymbols", kind="bool", default=False),
    Field("RequireNumbers", kind="bool", default=False),
    Field("RequireUppercaseCharacters", kind="bool", default=False),
    Field("RequireLowercaseCharacters", kind="bool", default=False),
    Field("AllowUsersToChangePassword", kind="bool", default=False),
    Field("MaxPasswordAge", kind="int", low=1, high=1095),
    Field("PasswordReusePrevention", kind="int", low=1, high=24),
    Field("HardExpiry", kind="bool", default=False),
)


@IAM.action("UpdateAccountPasswordPolicy", *POLICY_FIELDS, resource=account_wide, has_output=False)
def update_account_password_policy(ctx: ActionContext, p: Params) -> None:
    """As IAM, a parameter left out takes its default (the old value is not kept)."""
    policy = PasswordPolicy(
        minimum_length=p["MinimumPasswordLength"],
        require_symbols=p["RequireSymbols"],
        require_numbers=p["RequireNumbers"],
        require_uppercase=p["RequireUppercaseCharacters"],
        require_lowercase=p["RequireLowercaseCharacters"],
        allow_users_to_change_password=p["AllowUsersToChangePassword"],
        max_password_age=p["MaxPasswordAge"],
        password_reuse_prevention=p["PasswordReusePrevention"],
        hard_expiry=p["HardExpiry"],
    )
    ctx.directory.account.update_password_policy(policy)


@IAM.action("GetAccountPasswordPolicy", resource=account_wide)
def get_account_password_policy(ctx: ActionContext, _p: Params) -> Result:
    """`NoSuchEntity` while no policy is set (the default applies then), as IAM."""
    account = ctx.directory.account.get()
    if account.password_policy is None:
        raise NotFound(
            f"The Password Policy with domain name `{account.account_id}` cannot be found"
        )
    policy = PasswordPolicy.from_json(account.password_policy)
    return {
        "PasswordPolicy": {
            "MinimumPasswordLength": policy.minimum_length,
            "RequireSymbols": policy.require_symbols,
            "RequireNumbers": policy.require_numbers,
            "RequireUppercaseCharacters": policy.require_uppercase,
            "RequireLowercaseCharacters": policy.require_lowercase,
            "AllowUsersToChangePassword": policy.allow_users_to_change_password,
            "ExpirePasswords": policy.max_password_age is not None,
            "MaxPasswordAge": policy.max_password_age,
            "PasswordReusePrevention": policy.password_reuse_prevention,
            "HardExpiry": policy.hard_expiry,
        }
    }


@IAM.action("DeleteAccountPasswordPolicy", resource=account_wide, has_output=False)
def delete_account_password_policy(ctx: ActionContext, _p: Params) -> None:
    ctx.directory.account.delete_password_policy()
