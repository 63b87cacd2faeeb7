"""IAM roles through boto3 against a live bridge (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.live import LiveBridge, error_of, unchecked_client

ACCOUNT = "123456789012"
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
READ_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
}


def test_role_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    role = iam.create_role(
        RoleName="deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="ci deploys",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "ops"}],
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert (role["Description"], role["MaxSessionDuration"]) == ("ci deploys", 7200)
    assert role["Tags"] == [{"Key": "team", "Value": "ops"}]
    fetched = iam.get_role(RoleName="DEPLOYER")["Role"]
    assert fetched["RoleName"] == "deployer" and fetched["Path"] == "/ci/"
    assert fetched["CreateDate"] == role["CreateDate"]
    iam.delete_role(RoleName="deployer")
    with pytest.raises(ClientError) as caught:
        iam.get_role(RoleName="deployer")
    assert error_of(caught)[0] == "NoSuchEntity"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_create_role_defaults(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    role = iam.create_role(RoleName="plain", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/plain"
    assert (role["Path"], role["MaxSessionDuration"]) == ("/", 3600)
    assert "Description" not in role and "Tags" not in role
    assert "PermissionsBoundary" not in role


def test_update_role_description_duration_and_trust(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_role(RoleName="upd", AssumeRolePolicyDocument=json.dumps(TRUST))
    answer = iam.update_role(RoleName="upd", Description="first", MaxSessionDuration=43200)
    assert set(answer) == {"ResponseMetadata"}
    role = iam.get_role(RoleName="upd")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("first", 43200)
    role = iam.update_role_description(RoleName="upd", Description="second")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("second", 43200)
    new_trust = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Sid": "Ci"}]}  # type: ignore[dict-item]
    iam.update_assume_role_policy(RoleName="upd", PolicyDocument=json.dumps(new_trust))
    assert iam.get_role(RoleName="upd")["Role"]["AssumeRolePolicyDocument"] == new_trust


def test_list_roles_by_prefix_pages_and_omits_details(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    for i in range(5):
        iam.create_role(
            RoleName=f"lr{i}",
            Path="/listed/",
            AssumeRolePolicyDocument=json.dumps(TRUST),
            Tags=[{"Key": "k", "Value": "v"}],
        )
    first = iam.list_roles(PathPrefix="/listed/", MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Roles"]) == 2
    pages = iam.get_paginator("list_roles").paginate(
        PathPrefix="/listed/", PaginationConfig={"PageSize": 2}
    )
    roles = [r for page in pages for r in page["Roles"]]
    assert [r["RoleName"] for r in roles] == [f"lr{i}" for i in range(5)]
    assert all(r["AssumeRolePolicyDocument"] == TRUST for r in roles)
    for hidden in ("Tags", "PermissionsBoundary", "RoleLastUsed"):
        assert all(hidden not in r for r in roles)
    assert iam.list_roles(PathPrefix="/nothing-here/")["Roles"] == []


def test_role_tags(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "A", "Value": "3"}])
    first = iam.list_role_tags(RoleName="tagged", MaxItems=1)
    assert first["IsTruncated"] is True and len(first["Tags"]) == 1
    rest = iam.list_role_tags(RoleName="tagged", Marker=first["Marker"])
    assert first["Tags"] + rest["Tags"] == [{"Key": "b", "Value": "2"}, {"Key": "A", "Value": "3"}]
    iam.untag_role(RoleName="tagged", TagKeys=["B"])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [{"Key": "A", "Value": "3"}]
    with pytest.raises(ClientError) as caught:
        iam.list_role_tags(RoleName="no-such-role")
    assert error_of(caught)[0] == "NoSuchEntity"


def test_role_permissions_boundary(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = iam.create_policy(PolicyName="rb", PolicyDocument=json.dumps(READ_ALL))["Policy"]["Arn"]
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=arn)
    boundary = iam.get_role(RoleName="bounded")["Role"]["PermissionsBoundary"]
    assert boundary == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": arn,
    }
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught)[0] == "DeleteConflict"
    iam.delete_role_permissions_boundary(RoleName="bounded")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="bounded")["Role"]
    missing = f"arn:aws:iam::{ACCOUNT}:policy/absent"
    with pytest.raises(ClientError) as caught:
        iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=missing)
    assert error_of(caught)[0] == "NoSuchEntity"
    assert "PermissionsBoundary" not in iam.get_role(RoleName="bounded")["Role"]


def test_create_role_with_boundary(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = iam.create_policy(PolicyName="rb2", PolicyDocument=json.dumps(READ_ALL))["Policy"]["Arn"]
    role = iam.create_role(
        RoleName="born-bounded", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=arn
    )["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn


WITH_RESOURCE = {
    "Version": "2012-10-17",
    "Statement": [{**TRUST["Statement"][0], "Resource": "*"}],  # type: ignore[dict-item]
}


@pytest.mark.parametrize(
    ("kwargs", "code", "fragments"),
    [
        (
            {"AssumeRolePolicyDocument": json.dumps(WITH_RESOURCE)},
            "MalformedPolicyDocument",
            ("Statement[0].Resource", "as prohibited field Resource"),
        ),
        (
            {"AssumeRolePolicyDocument": "{not json"},
            "MalformedPolicyDocument",
            ("invalid JSON",),
        ),
        (
            {"AssumeRolePolicyDocument": json.dumps(TRUST), "MaxSessionDuration": 60},
            "ValidationError",
            ("at 'maxSessionDuration'", "greater than or equal to 3600"),
        ),
        (
            {"AssumeRolePolicyDocument": json.dumps(TRUST), "MaxSessionDuration": 43201},
            "ValidationError",
            ("at 'maxSessionDuration'", "less than or equal to 43200"),
        ),
        (
            {"AssumeRolePolicyDocument": json.dumps(TRUST), "Path": "ci"},
            "ValidationError",
            ("at 'path'",),
        ),
        (
            {"AssumeRolePolicyDocument": json.dumps(TRUST), "Description": "x" * 1001},
            "ValidationError",
            ("at 'description'", "less than or equal to 1000"),
        ),
        (
            {
                "AssumeRolePolicyDocument": json.dumps(TRUST),
                "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/absent",
            },
            "NoSuchEntity",
            ("policy/absent",),
        ),
    ],
    ids=[
        "trust-with-resource",
        "trust-not-json",
        "duration-too-short",
        "duration-too-long",
        "bad-path",
        "long-description",
        "unknown-boundary",
    ],
)
def test_create_role_errors_leave_nothing(
    bridge: LiveBridge, kwargs: dict[str, Any], code: str, fragments: tuple[str, ...]
) -> None:
    iam = unchecked_client(bridge)
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName="never", **kwargs)
    got_code, message = error_of(caught)
    assert got_code == code
    for fragment in fragments:
        assert fragment in message
    with pytest.raises(ClientError) as caught:
        iam.get_role(RoleName="never")
    assert error_of(caught)[0] == "NoSuchEntity"


def test_bad_role_name_is_validation_error(bridge: LiveBridge) -> None:
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").get_role(RoleName="has space")
    code, message = error_of(caught)
    assert code == "ValidationError" and "at 'roleName'" in message


def test_duplicate_role_is_entity_already_exists(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_role(RoleName="twice", AssumeRolePolicyDocument=json.dumps(TRUST), Description="1")
    with pytest.raises(ClientError) as caught:
        iam.create_role(
            RoleName="TWICE", AssumeRolePolicyDocument=json.dumps(TRUST), Description="2"
        )
    assert error_of(caught)[0] == "EntityAlreadyExists"
    assert iam.get_role(RoleName="twice")["Role"]["Description"] == "1"


def test_bad_trust_update_keeps_the_old_trust(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_role(RoleName="kept", AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(ClientError) as caught:
        iam.update_assume_role_policy(RoleName="kept", PolicyDocument=json.dumps(WITH_RESOURCE))
    assert error_of(caught)[0] == "MalformedPolicyDocument"
    assert iam.get_role(RoleName="kept")["Role"]["AssumeRolePolicyDocument"] == TRUST


@pytest.mark.parametrize(
    "call",
    [
        lambda iam: iam.update_role(RoleName="ghost", Description="x"),
        lambda iam: iam.update_role_description(RoleName="ghost", Description="x"),
        lambda iam: iam.update_assume_role_policy(
            RoleName="ghost", PolicyDocument=json.dumps(TRUST)
        ),
        lambda iam: iam.delete_role(RoleName="ghost"),
        lambda iam: iam.tag_role(RoleName="ghost", Tags=[{"Key": "a", "Value": "b"}]),
        lambda iam: iam.untag_role(RoleName="ghost", TagKeys=["a"]),
        lambda iam: iam.delete_role_permissions_boundary(RoleName="ghost"),
    ],
    ids=["update", "update-description", "update-trust", "delete", "tag", "untag", "boundary"],
)
def test_missing_role_is_no_such_entity(bridge: LiveBridge, call: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call(bridge.client("iam"))
    code, message = error_of(caught)
    assert code == "NoSuchEntity" and "`ghost`" in message


def test_delete_role_with_policies_is_delete_conflict(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = iam.create_policy(PolicyName="rp", PolicyDocument=json.dumps(READ_ALL))["Policy"]["Arn"]
    iam.create_role(RoleName="busy", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="busy", PolicyArn=arn)
    iam.put_role_policy(RoleName="busy", PolicyName="own", PolicyDocument=json.dumps(READ_ALL))

    def refused() -> str:
        with pytest.raises(ClientError) as caught:
            iam.delete_role(RoleName="busy")
        code, message = error_of(caught)
        assert code == "DeleteConflict"
        assert iam.get_role(RoleName="busy")["Role"]["RoleName"] == "busy"
        return message

    assert "must delete policies first" in refused()
    iam.delete_role_policy(RoleName="busy", PolicyName="own")
    assert "must detach all policies first" in refused()
    iam.detach_role_policy(RoleName="busy", PolicyArn=arn)
    iam.delete_role(RoleName="busy")
    fails_missing = pytest.raises(ClientError)
    with fails_missing as caught:
        iam.get_role(RoleName="busy")
    assert error_of(caught)[0] == "NoSuchEntity"
