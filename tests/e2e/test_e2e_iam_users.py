"""IAM users and groups through boto3 against a live bridge (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.audit_wait import audit_events
from tests.e2e.live import LiveBridge


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_caller_identity_is_the_admin(bridge: LiveBridge) -> None:
    identity = bridge.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/admin"
    assert identity["UserId"].startswith("AIDA")


def test_user_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    created = iam.create_user(
        UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}]
    )
    user = created["User"]
    assert user["Arn"] == "arn:aws:iam::123456789012:user/eng/alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert iam.get_user(UserName="ALICE")["User"]["UserName"] == "alice"
    assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "team", "Value": "core"}]
    iam.update_user(UserName="alice", NewUserName="alice2")
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/eng/")["Users"]] == ["alice2"]
    iam.delete_user(UserName="alice2")
    with pytest.raises(ClientError) as caught:
        iam.get_user(UserName="alice2")
    assert error_code(caught) == "NoSuchEntity"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_duplicate_user_is_entity_already_exists(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="dup")
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="DUP")
    assert error_code(caught) == "EntityAlreadyExists"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"UserName": "bad name"}, "at 'userName' failed to satisfy constraint"),
        ({"UserName": "x" * 65}, "Member must have length less than or equal to 64"),
        ({"UserName": "ok", "Path": "nopath"}, "at 'path' failed to satisfy constraint"),
    ],
    ids=["space-in-name", "name-too-long", "path-without-slashes"],
)
def test_invalid_parameters_are_validation_errors(
    bridge: LiveBridge, kwargs: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").create_user(**kwargs)
    assert error_code(caught) == "ValidationError"
    assert fragment in caught.value.response["Error"]["Message"]


def test_groups_and_membership(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="bob")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="bob")
    groups = iam.list_groups_for_user(UserName="bob")["Groups"]
    assert [g["GroupName"] for g in groups] == ["devs"]
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["bob"]
    with pytest.raises(ClientError) as caught:
        iam.delete_group(GroupName="devs")
    assert error_code(caught) == "DeleteConflict"
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName="bob")
    assert error_code(caught) == "DeleteConflict"
    iam.remove_user_from_group(GroupName="devs", UserName="bob")
    iam.delete_group(GroupName="devs")
    iam.delete_user(UserName="bob")


def test_pagination_walks_every_user_once(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    for i in range(5):
        iam.create_user(UserName=f"page{i}", Path="/paged/")
    first = iam.list_users(PathPrefix="/paged/", MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    names = [
        u["UserName"]
        for page in iam.get_paginator("list_users").paginate(
            PathPrefix="/paged/", PaginationConfig={"PageSize": 2}
        )
        for u in page["Users"]
    ]
    assert names == [f"page{i}" for i in range(5)]


def test_bad_secret_is_signature_does_not_match(bridge: LiveBridge) -> None:
    client = bridge.client("iam", secret="x" * 40)
    with pytest.raises(ClientError) as caught:
        client.list_users()
    assert error_code(caught) == "SignatureDoesNotMatch"


def test_unknown_key_is_invalid_client_token_id(bridge: LiveBridge) -> None:
    client = bridge.client("iam", key="AKIAAAAAAAAAAAAAAAAA", secret="x" * 40)
    with pytest.raises(ClientError) as caught:
        client.list_users()
    assert error_code(caught) == "InvalidClientTokenId"


def test_iam_changes_and_refusals_are_audited(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="audited")
    key = iam.create_access_key(UserName="audited")["AccessKey"]
    intruder = bridge.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError):
        intruder.create_user(UserName="not-allowed")
    names = {"audited", "not-allowed"}
    events = audit_events(
        bridge, "CreateUser", lambda found: names <= {e["parameters"]["UserName"] for e in found}
    )
    by_user = {e["parameters"]["UserName"]: e for e in events}
    assert by_user["audited"]["result"] == "success"
    assert by_user["audited"]["principal"] == "arn:aws:iam::123456789012:user/admin"
    refused = by_user["not-allowed"]
    assert (refused["result"], refused["error_code"]) == ("failure", "AccessDenied")
    assert refused["principal"] == "arn:aws:iam::123456789012:user/audited"
