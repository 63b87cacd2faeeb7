"""Account authorization details, the credential report and service last accessed,
through boto3 against a live bridge (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.live import LiveBridge

ACCOUNT = "123456789012"
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
COLUMNS = HEADER.split(",")
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _allow(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def test_credential_report_before_generation_is_not_present(bridge: LiveBridge) -> None:
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").get_credential_report()
    assert error(caught) == ("ReportNotPresent", 410)


def test_account_authorization_details(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="gaad-user", Tags=[{"Key": "team", "Value": "core"}])
    iam.create_group(GroupName="gaad-group")
    iam.add_user_to_group(GroupName="gaad-group", UserName="gaad-user")
    iam.put_user_policy(
        UserName="gaad-user", PolicyName="inline", PolicyDocument=json.dumps(_allow("s3:Get*"))
    )
    policy = iam.create_policy(
        PolicyName="gaad-managed", PolicyDocument=json.dumps(_allow("ec2:*"))
    )
    arn = policy["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="gaad-group", PolicyArn=arn)
    iam.create_role(RoleName="gaad-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(
        RoleName="gaad-role", PolicyName="role-inline", PolicyDocument=json.dumps(_allow("sqs:*"))
    )
    details = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    user = users["gaad-user"]
    assert user["GroupList"] == ["gaad-group"]
    assert user["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": _allow("s3:Get*")}]
    assert user["Tags"] == [{"Key": "team", "Value": "core"}]
    group = next(g for g in details["GroupDetailList"] if g["GroupName"] == "gaad-group")
    assert group["AttachedManagedPolicies"] == [{"PolicyName": "gaad-managed", "PolicyArn": arn}]
    role = next(r for r in details["RoleDetailList"] if r["RoleName"] == "gaad-role")
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["InstanceProfileList"] == []
    assert role["RolePolicyList"][0]["PolicyDocument"] == _allow("sqs:*")
    managed = next(p for p in details["Policies"] if p["Arn"] == arn)
    assert managed["AttachmentCount"] == 1
    assert managed["PolicyVersionList"][0]["Document"] == _allow("ec2:*")
    assert managed["PolicyVersionList"][0]["IsDefaultVersion"] is True


@pytest.mark.parametrize(
    ("entity_filter", "filled"),
    [
        (["Role"], {"RoleDetailList"}),
        (["User", "LocalManagedPolicy"], {"UserDetailList", "Policies"}),
        (["AWSManagedPolicy"], set()),
    ],
    ids=["roles-only", "users-and-local-policies", "aws-managed-is-empty"],
)
def test_account_authorization_details_filter(
    bridge: LiveBridge, entity_filter: list[str], filled: set[str]
) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName=f"filter-{len(entity_filter)}-{len(filled)}")
    iam.create_role(
        RoleName=f"filter-{len(entity_filter)}-{len(filled)}",
        AssumeRolePolicyDocument=json.dumps(TRUST),
    )
    iam.create_policy(
        PolicyName=f"filter-{len(entity_filter)}-{len(filled)}",
        PolicyDocument=json.dumps(_allow("s3:*")),
    )
    details = iam.get_account_authorization_details(Filter=entity_filter)
    lists = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    assert {name for name in lists if details[name]} == filled


def test_account_authorization_details_pages(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    for n in range(3):
        iam.create_group(GroupName=f"paged-{n}")
    everything = iam.get_account_authorization_details()
    assert everything["IsTruncated"] is False
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 2}
    )
    collected: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for page in pages:
        for key, items in collected.items():
            items.extend(page[key])
    for key, items in collected.items():
        assert items == everything[key], key


def test_account_authorization_details_bad_filter(bridge: LiveBridge) -> None:
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").get_account_authorization_details(Filter=["Robot"])
    assert error(caught) == ("ValidationError", 400)
    assert "at 'filter'" in caught.value.response["Error"]["Message"]


def _user_with_key(iam: Any, name: str, *actions: str) -> tuple[str, str, str]:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(_allow(*actions)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, key["AccessKeyId"], key["SecretAccessKey"]


def test_credential_report(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    _, key, secret = _user_with_key(iam, "report-user", "iam:GetUser")
    iam.create_login_profile(UserName="report-user", Password="Correct-Horse-9")
    bridge.client("iam", key=key, secret=secret).get_user()
    iam.create_user(UserName="report-plain")
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    rows = list(csv.reader(io.StringIO(report["Content"].decode("utf-8"))))
    assert rows[0] == COLUMNS
    records = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    root = rows[1]
    assert root[0] == "<root_account>" and root[1] == f"arn:aws:iam::{ACCOUNT}:root"
    assert records["<root_account>"]["password_enabled"] == "not_supported"
    user = records["report-user"]
    assert user["password_enabled"] == "true"
    assert user["password_last_used"] == "no_information"
    assert user["access_key_1_active"] == "true"
    assert user["access_key_1_last_used_service"] == "iam"
    assert user["access_key_1_last_used_region"] == "eu-west-1"
    assert user["access_key_2_active"] == "false"
    plain = records["report-plain"]
    assert (plain["password_enabled"], plain["password_last_used"]) == ("false", "N/A")
    assert plain["access_key_1_last_rotated"] == "N/A"


def test_service_last_accessed_after_calls(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn, key, secret = _user_with_key(iam, "sla-user", "iam:List*", "s3:GetObject")
    bridge.client("iam", key=key, secret=secret).list_users()
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    details = iam.get_service_last_accessed_details(JobId=job)
    assert details["JobStatus"] == "COMPLETED"
    services = {s["ServiceNamespace"]: s for s in details["ServicesLastAccessed"]}
    assert set(services) == {"iam", "s3"}
    assert services["iam"]["LastAuthenticatedEntity"] == arn
    assert services["iam"]["TotalAuthenticatedEntities"] == 1
    assert "LastAuthenticated" in services["iam"]
    assert services["s3"]["TotalAuthenticatedEntities"] == 0
    assert "LastAuthenticated" not in services["s3"]


@pytest.mark.parametrize(
    ("call", "kwargs", "expected"),
    [
        ("get_service_last_accessed_details", {"JobId": "0" * 36}, ("NoSuchEntity", 404)),
        (
            "generate_service_last_accessed_details",
            {"Arn": f"arn:aws:iam::{ACCOUNT}:user/nobody"},
            ("NoSuchEntity", 404),
        ),
        (
            "generate_service_last_accessed_details",
            {"Arn": f"arn:aws:iam::{ACCOUNT}:user/x", "Granularity": "SOMETIMES"},
            ("ValidationError", 400),
        ),
    ],
    ids=["unknown-job", "unknown-user", "bad-granularity"],
)
def test_service_last_accessed_errors(
    bridge: LiveBridge, call: str, kwargs: dict[str, str], expected: tuple[str, int]
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(bridge.client("iam"), call)(**kwargs)
    assert error(caught) == expected
