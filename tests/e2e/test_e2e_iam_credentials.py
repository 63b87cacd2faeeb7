"""IAM access keys, login profiles, the password policy and virtual MFA through boto3
against a live bridge (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from bridge.directory import ids
from bridge.directory.sealing import access_key_context
from bridge.services import build_services
from bridge.settings import load_settings
from bridge.storage.interfaces import AccessKey
from tests.e2e.live import LiveBridge, clean_env, error_of, start_bridge

ACCOUNT = "123456789012"


def new_user_with_key(bridge: LiveBridge, name: str) -> tuple[Any, dict[str, Any]]:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName=name)
    return iam, iam.create_access_key(UserName=name)["AccessKey"]


def sts_as(bridge: LiveBridge, key: dict[str, Any]) -> Any:
    return bridge.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


# --- access keys ---------------------------------------------------------------


def test_new_key_works_at_once_and_records_its_use(bridge: LiveBridge) -> None:
    iam, key = new_user_with_key(bridge, "kim")
    assert key["UserName"] == "kim" and key["Status"] == "Active"
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    unused = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert unused["UserName"] == "kim"
    assert unused["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    identity = sts_as(bridge, key).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/kim"
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sts", "eu-west-1")
    assert used["LastUsedDate"] >= key["CreateDate"]


def test_inactive_and_deleted_keys_are_refused(bridge: LiveBridge) -> None:
    iam, key = new_user_with_key(bridge, "ina")
    key_id, sts = key["AccessKeyId"], sts_as(bridge, key)
    iam.update_access_key(UserName="ina", AccessKeyId=key_id, Status="Inactive")
    listed = iam.list_access_keys(UserName="ina")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key_id, "Inactive")]
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"
    iam.update_access_key(UserName="ina", AccessKeyId=key_id, Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(":user/ina")
    iam.delete_access_key(UserName="ina", AccessKeyId=key_id)
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"
    assert iam.list_access_keys(UserName="ina")["AccessKeyMetadata"] == []


def test_third_key_is_limit_exceeded_and_changes_nothing(bridge: LiveBridge) -> None:
    iam, first = new_user_with_key(bridge, "lim")
    second = iam.create_access_key(UserName="lim")["AccessKey"]
    with pytest.raises(ClientError) as caught:
        iam.create_access_key(UserName="lim")
    code, message = error_of(caught)
    assert code == "LimitExceeded" and "AccessKeysPerUser: 2" in message
    listed = iam.list_access_keys(UserName="lim")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}


def test_list_access_keys_pages(bridge: LiveBridge) -> None:
    iam, first = new_user_with_key(bridge, "pag")
    second = iam.create_access_key(UserName="pag")["AccessKey"]
    page = iam.list_access_keys(UserName="pag", MaxItems=1)
    assert page["IsTruncated"] is True and len(page["AccessKeyMetadata"]) == 1
    rest = iam.list_access_keys(UserName="pag", MaxItems=1, Marker=page["Marker"])
    assert rest["IsTruncated"] is False
    seen = [k["AccessKeyId"] for k in page["AccessKeyMetadata"] + rest["AccessKeyMetadata"]]
    assert sorted(seen) == sorted([first["AccessKeyId"], second["AccessKeyId"]])


def test_user_name_defaults_to_the_caller(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    created = iam.create_access_key()["AccessKey"]
    assert created["UserName"] == "admin"
    mine = {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
    assert created["AccessKeyId"] in mine and bridge.access_key_id in mine
    iam.delete_access_key(AccessKeyId=created["AccessKeyId"])
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [
        bridge.access_key_id
    ]


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "fragment"),
    [
        ("create_access_key", {"UserName": "nobody"}, "NoSuchEntity", "`nobody`"),
        ("list_access_keys", {"UserName": "nobody"}, "NoSuchEntity", "`nobody`"),
        (
            "delete_access_key",
            {"UserName": "admin", "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
            "NoSuchEntity",
            "`AKIAAAAAAAAAAAAAAAAA`",
        ),
        (
            "get_access_key_last_used",
            {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
            "NoSuchEntity",
            "`AKIAAAAAAAAAAAAAAAAA`",
        ),
        (
            "update_access_key",
            {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "Status": "Paused"},
            "ValidationError",
            "at 'status' failed to satisfy constraint",
        ),
        (
            "update_access_key",
            {"AccessKeyId": "AKIA-not-a-key-id!", "Status": "Active"},
            "ValidationError",
            "at 'accessKeyId' failed to satisfy constraint",
        ),
    ],
    ids=[
        "create-unknown-user",
        "list-unknown-user",
        "delete-unknown-key",
        "last-used-unknown-key",
        "status-not-in-enum",
        "key-id-pattern",
    ],
)
def test_access_key_errors(
    bridge: LiveBridge, call: str, kwargs: dict[str, str], code: str, fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(bridge.client("iam"), call)(**kwargs)
    assert error_of(caught)[0] == code
    assert fragment in error_of(caught)[1]


def test_user_without_policies_is_denied_another_users_keys(bridge: LiveBridge) -> None:
    iam, key = new_user_with_key(bridge, "plain")
    plain = bridge.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        plain.create_access_key(UserName="admin")
    code, message = error_of(caught)
    assert code == "AccessDenied"
    assert f"iam:CreateAccessKey on resource: arn:aws:iam::{ACCOUNT}:user/admin" in message
    assert len(iam.list_access_keys(UserName="admin")["AccessKeyMetadata"]) == 1


# --- login profiles and the password policy ------------------------------------


def test_login_profile_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="lou")
    created = iam.create_login_profile(
        UserName="LOU", Password="correct-horse-1", PasswordResetRequired=True
    )["LoginProfile"]
    assert created["UserName"] == "lou" and created["PasswordResetRequired"] is True
    got = iam.get_login_profile(UserName="lou")["LoginProfile"]
    assert got["CreateDate"] == created["CreateDate"]
    iam.update_login_profile(UserName="lou", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="lou")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as caught:
        iam.create_login_profile(UserName="lou", Password="another-pass-2")
    assert error_of(caught)[0] == "EntityAlreadyExists"
    iam.delete_login_profile(UserName="lou")
    with pytest.raises(ClientError) as caught:
        iam.get_login_profile(UserName="lou")
    assert error_of(caught)[0] == "NoSuchEntity"


def test_password_policy_is_enforced_and_failures_change_nothing(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.get_account_password_policy()
    assert error_of(caught)[0] == "NoSuchEntity"
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireNumbers"] is True
    assert policy["RequireSymbols"] is False and policy["ExpirePasswords"] is False
    iam.create_user(UserName="pol")
    try:
        with pytest.raises(ClientError) as caught:
            iam.create_login_profile(UserName="pol", Password="short")
        code, message = error_of(caught)
        assert code == "PasswordPolicyViolation"
        assert "at least 12 characters" in message and "must contain a number" in message
        with pytest.raises(ClientError) as caught:
            iam.get_login_profile(UserName="pol")
        assert error_of(caught)[0] == "NoSuchEntity"
        iam.create_login_profile(UserName="pol", Password="long-enough-pass-1")
        with pytest.raises(ClientError) as caught:
            iam.update_login_profile(UserName="pol", Password="no-digits-in-here")
        assert error_of(caught)[0] == "PasswordPolicyViolation"
    finally:
        iam.delete_account_password_policy()
    with pytest.raises(ClientError) as caught:
        iam.delete_account_password_policy()
    assert error_of(caught)[0] == "NoSuchEntity"


def test_update_password_policy_leaves_out_means_default(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.update_account_password_policy(RequireSymbols=True, MaxPasswordAge=90)
    iam.update_account_password_policy(PasswordReusePrevention=3)
    try:
        policy = iam.get_account_password_policy()["PasswordPolicy"]
        assert policy["RequireSymbols"] is False and "MaxPasswordAge" not in policy
        assert policy["PasswordReusePrevention"] == 3 and policy["MinimumPasswordLength"] == 6
    finally:
        iam.delete_account_password_policy()


@pytest.mark.parametrize(
    ("call", "kwargs", "fragment"),
    [
        (
            "update_account_password_policy",
            {"MinimumPasswordLength": 200},
            "at 'minimumPasswordLength' failed to satisfy constraint",
        ),
        (
            "update_account_password_policy",
            {"MaxPasswordAge": 2000},
            "at 'maxPasswordAge' failed to satisfy constraint",
        ),
        (
            "create_login_profile",
            {"UserName": "admin", "Password": "p" * 129},
            "at 'password' failed to satisfy constraint",
        ),
        (
            "update_login_profile",
            {"UserName": "admin", "Password": "caf\u00e9\u2603-password"},
            "at 'password' failed to satisfy constraint",
        ),
    ],
    ids=["minimum-length-above-128", "max-age-above-1095", "password-too-long", "password-charset"],
)
def test_password_parameters_are_validated_without_echoing(
    bridge: LiveBridge, call: str, kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(bridge.client("iam"), call)(**kwargs)
    code, message = error_of(caught)
    assert code == "ValidationError" and fragment in message
    secret = kwargs.get("Password")
    assert secret is None or secret not in message


def test_change_password_needs_the_policy_flag_and_the_old_password(bridge: LiveBridge) -> None:
    iam, key = new_user_with_key(bridge, "chg")
    iam.create_login_profile(UserName="chg", Password="first-pass-1", PasswordResetRequired=True)
    own: Any = bridge.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        own.change_password(OldPassword="first-pass-1", NewPassword="second-pass-2")
    assert error_of(caught)[0] == "AccessDenied"
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    try:
        own.change_password(OldPassword="first-pass-1", NewPassword="second-pass-2")
        assert iam.get_login_profile(UserName="chg")["LoginProfile"]["PasswordResetRequired"] is (
            False
        )
        with pytest.raises(ClientError) as caught:
            own.change_password(OldPassword="first-pass-1", NewPassword="third-pass-3")
        code, message = error_of(caught)
        assert code == "AccessDenied" and "old password" in message
        own.change_password(OldPassword="second-pass-2", NewPassword="third-pass-3")
    finally:
        iam.delete_account_password_policy()


# --- virtual MFA ---------------------------------------------------------------


def consecutive_codes(seed: bytes) -> tuple[str, str]:
    totp = pyotp.TOTP(seed.decode("ascii"))
    now = time.time()
    return totp.at(now), totp.at(now + 30)


def serials(iam: Any, status: str) -> list[str]:
    devices = iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"]
    return [d["SerialNumber"] for d in devices]


def test_virtual_mfa_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="mia")
    device = iam.create_virtual_mfa_device(
        VirtualMFADeviceName="mia-phone", Path="/staff/", Tags=[{"Key": "k", "Value": "v"}]
    )["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/staff/mia-phone"
    assert len(device["Base32StringSeed"]) == 32 and device["Tags"] == [{"Key": "k", "Value": "v"}]
    if importlib.util.find_spec("segno") is None:
        assert "QRCodePNG" not in device
    else:
        assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    assert serial in serials(iam, "Unassigned") and serial not in serials(iam, "Assigned")
    code1, code2 = consecutive_codes(device["Base32StringSeed"])
    iam.enable_mfa_device(
        UserName="mia", SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2
    )
    listed = iam.list_mfa_devices(UserName="mia")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [("mia", serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"]) for d in assigned] == [(serial, "mia")]
    with pytest.raises(ClientError) as caught:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(caught)[0] == "DeleteConflict"
    iam.deactivate_mfa_device(UserName="mia", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="mia")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert serial not in serials(iam, "Any")


def test_wrong_codes_are_refused_and_leave_the_device_unassigned(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="wes")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="wes-phone")["VirtualMFADevice"]
    code1, code2 = consecutive_codes(device["Base32StringSeed"])
    with pytest.raises(ClientError) as caught:
        iam.enable_mfa_device(
            UserName="wes",
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1=code2,
            AuthenticationCode2=code1,
        )
    assert error_of(caught)[0] == "InvalidAuthenticationCode"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert device["SerialNumber"] in serials(iam, "Unassigned")
    assert iam.list_mfa_devices(UserName="wes")["MFADevices"] == []


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "fragment"),
    [
        (
            "create_virtual_mfa_device",
            {"VirtualMFADeviceName": "bad name"},
            "ValidationError",
            "at 'virtualMFADeviceName' failed to satisfy constraint",
        ),
        (
            "enable_mfa_device",
            {
                "UserName": "admin",
                "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/none",
                "AuthenticationCode1": "12345a",
                "AuthenticationCode2": "123456",
            },
            "ValidationError",
            "at 'authenticationCode1' failed to satisfy constraint",
        ),
        (
            "enable_mfa_device",
            {
                "UserName": "admin",
                "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/none",
                "AuthenticationCode1": "123456",
                "AuthenticationCode2": "654321",
            },
            "NoSuchEntity",
            f"`arn:aws:iam::{ACCOUNT}:mfa/none`",
        ),
        (
            "deactivate_mfa_device",
            {"UserName": "admin", "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/none"},
            "NoSuchEntity",
            "not assigned",
        ),
        (
            "delete_virtual_mfa_device",
            {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/none"},
            "NoSuchEntity",
            "cannot be found",
        ),
        (
            "list_virtual_mfa_devices",
            {"AssignmentStatus": "Maybe"},
            "ValidationError",
            "at 'assignmentStatus' failed to satisfy constraint",
        ),
    ],
    ids=[
        "name-pattern",
        "code-not-digits",
        "enable-unknown-device",
        "deactivate-unassigned",
        "delete-unknown-device",
        "assignment-status-enum",
    ],
)
def test_mfa_errors(
    bridge: LiveBridge, call: str, kwargs: dict[str, str], code: str, fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(bridge.client("iam"), call)(**kwargs)
    assert error_of(caught)[0] == code
    assert fragment in error_of(caught)[1]


def test_duplicate_device_is_entity_already_exists(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="twin")
    with pytest.raises(ClientError) as caught:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="twin")
    assert error_of(caught)[0] == "EntityAlreadyExists"


def test_list_virtual_mfa_devices_pages(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    made = {
        iam.create_virtual_mfa_device(VirtualMFADeviceName=f"pg{i}", Path="/pg/")[
            "VirtualMFADevice"
        ]["SerialNumber"]
        for i in range(3)
    }
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 2})
    seen = [d["SerialNumber"] for page in pages for d in page["VirtualMFADevices"]]
    assert len(seen) == len(set(seen)) and made <= set(seen)


# --- the root account's own keys ---------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    """A bridge on SQLite only: the root key is seeded in-process from the home."""
    yield from start_bridge(tmp_path_factory.mktemp("e2e-root") / "home", clean_env({}))


def seed_root_key(home: Path) -> tuple[str, str]:
    """`bridge init` makes no root key; write one as CreateAccessKey does for root."""
    services = build_services(load_settings(home, environ={}))
    try:
        key_id = ids.access_key_id(services.rng)
        secret = ids.secret_access_key(services.rng)
        sealed = services.key_ring.seal(secret.encode(), context=access_key_context(key_id))
        with services.store.transaction() as uow:
            uow.access_keys.add(AccessKey(key_id, None, sealed, "Active", services.clock.now()))
    finally:
        services.close()
    return key_id, secret


def test_root_manages_its_own_keys(sqlite_bridge: LiveBridge) -> None:
    key_id, secret = seed_root_key(sqlite_bridge.home)
    root: Any = sqlite_bridge.client("iam", key=key_id, secret=secret)
    created = root.create_access_key()["AccessKey"]
    assert "UserName" not in created and created["AccessKeyId"].startswith("AKIA")
    listed = {k["AccessKeyId"] for k in root.list_access_keys()["AccessKeyMetadata"]}
    assert listed == {key_id, created["AccessKeyId"]}
    with pytest.raises(ClientError) as caught:
        root.create_access_key()
    assert error_of(caught)[0] == "LimitExceeded"
    new_root = sqlite_bridge.client(
        "sts", key=created["AccessKeyId"], secret=created["SecretAccessKey"]
    )
    assert new_root.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    root.update_access_key(AccessKeyId=created["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as caught:
        new_root.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"
    root.delete_access_key(AccessKeyId=created["AccessKeyId"])
    assert [k["AccessKeyId"] for k in root.list_access_keys()["AccessKeyMetadata"]] == [key_id]
    assert "UserName" not in root.get_access_key_last_used(AccessKeyId=key_id)
