"""IAM managed and inline policies, attachments and permission boundaries through boto3
against a live bridge (SQLite and PostgreSQL), including what they allow a user to do."""

from __future__ import annotations

import json
from collections.abc import Callable
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


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
    }


READ_IAM = allow("iam:Get*", "iam:List*")
BAD_EFFECT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Permit", "Action": "iam:Get*", "Resource": "*"}],
}


def fails(call: Callable[[], Any], code: str) -> str:
    """Run `call`, expect the AWS error `code`, return its message."""
    with pytest.raises(ClientError) as caught:
        call()
    got, message = error_of(caught)
    assert got == code, message
    return message


def new_policy(iam: Any, name: str, document: dict[str, Any], path: str = "/") -> str:
    return str(
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document), Path=path)[
            "Policy"
        ]["Arn"]
    )


# --- managed policies and versions -------------------------------------------------


def test_policy_shapes(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    policy = iam.create_policy(
        PolicyName="shape",
        Path="/team/",
        PolicyDocument=json.dumps(READ_IAM),
        Description="reads iam",
        Tags=[{"Key": "owner", "Value": "sec"}],
    )["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/shape"
    assert policy["Arn"] == arn
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert (policy["DefaultVersionId"], policy["AttachmentCount"]) == ("v1", 0)
    assert (policy["PermissionsBoundaryUsageCount"], policy["IsAttachable"]) == (0, True)
    fetched = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (fetched["Description"], fetched["Tags"]) == (
        "reads iam",
        [{"Key": "owner", "Value": "sec"}],
    )
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == READ_IAM and version["IsDefaultVersion"] is True
    fails(lambda: iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/shape"), "NoSuchEntity")


def test_policy_versions_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = new_policy(iam, "versioned", READ_IAM)
    second = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(allow("iam:GetUser")), SetAsDefault=True
    )["PolicyVersion"]
    assert (second["VersionId"], second["IsDefaultVersion"]) == ("v2", True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    third = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_IAM))
    assert third["PolicyVersion"]["IsDefaultVersion"] is False
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [
        ("v3", False),
        ("v2", True),
        ("v1", False),
    ]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"][
        "IsDefaultVersion"
    ]
    fails(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v1"), "DeleteConflict")
    fails(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    fails(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v2"), "NoSuchEntity")
    iam.delete_policy(PolicyArn=arn)
    fails(lambda: iam.get_policy(PolicyArn=arn), "NoSuchEntity")


def test_sixth_version_is_limit_exceeded_and_changes_nothing(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = new_policy(iam, "five", READ_IAM)
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_IAM))
    message = fails(
        lambda: iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(READ_IAM), SetAsDefault=True
        ),
        "LimitExceeded",
    )
    assert "5 versions" in message
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 5
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


def test_list_policy_versions_pages(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = new_policy(iam, "paged-versions", READ_IAM)
    for _ in range(2):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_IAM))
    pages = iam.get_paginator("list_policy_versions").paginate(
        PolicyArn=arn, PaginationConfig={"PageSize": 2}
    )
    assert [v["VersionId"] for page in pages for v in page["Versions"]] == ["v3", "v2", "v1"]


def test_policy_tags(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = new_policy(iam, "tagged-policy", READ_IAM)
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    first = iam.list_policy_tags(PolicyArn=arn, MaxItems=1)
    assert first["IsTruncated"] is True
    rest = iam.list_policy_tags(PolicyArn=arn, Marker=first["Marker"])
    assert first["Tags"] + rest["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["A"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_list_policies_filters_and_pages(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arns = [new_policy(iam, f"lp{i}", READ_IAM, path="/listing/") for i in range(4)]
    iam.create_user(UserName="lp-user")
    iam.attach_user_policy(UserName="lp-user", PolicyArn=arns[0])
    iam.put_user_permissions_boundary(UserName="lp-user", PermissionsBoundary=arns[1])

    def names(**kwargs: Any) -> list[str]:
        pages = iam.get_paginator("list_policies").paginate(
            PathPrefix="/listing/", PaginationConfig={"PageSize": 3}, **kwargs
        )
        return [p["PolicyName"] for page in pages for p in page["Policies"]]

    assert names() == ["lp0", "lp1", "lp2", "lp3"]
    assert names(Scope="Local") == ["lp0", "lp1", "lp2", "lp3"]
    assert names(Scope="AWS") == []
    assert names(OnlyAttached=True) == ["lp0", "lp1"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy") == ["lp0"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary") == ["lp1"]
    first = iam.list_policies(PathPrefix="/listing/", MaxItems=1)
    assert first["IsTruncated"] is True
    listed = first["Policies"][0]
    assert listed["AttachmentCount"] == 1 and "Tags" not in listed
    assert "lp0" not in [
        p["PolicyName"] for p in iam.list_policies(PathPrefix="/other/")["Policies"]
    ]


# --- attachments -------------------------------------------------------------------

KINDS = [
    ("user", lambda iam, n: iam.create_user(UserName=n)),
    ("group", lambda iam, n: iam.create_group(GroupName=n)),
    (
        "role",
        lambda iam, n: iam.create_role(RoleName=n, AssumeRolePolicyDocument=json.dumps(TRUST)),
    ),
]


def _param(kind: str) -> str:
    return {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]


def _method(verb: str, kind: str, suffix: str = "policy") -> str:
    return f"{verb}_{kind}_{suffix}"


@pytest.mark.parametrize(("kind", "create"), KINDS, ids=[k for k, _ in KINDS])
def test_attach_list_detach(bridge: LiveBridge, kind: str, create: Any) -> None:
    iam: Any = bridge.client("iam")
    name, who = f"att-{kind}", {_param(kind): f"att-{kind}"}
    create(iam, name)
    arns = [new_policy(iam, f"att-{kind}-{i}", READ_IAM, path=f"/p{i % 2}/") for i in range(3)]
    for arn in arns:
        getattr(iam, _method("attach", kind))(PolicyArn=arn, **who)
    getattr(iam, _method("attach", kind))(PolicyArn=arns[0], **who)  # again: no change
    lister = iam.get_paginator(f"list_attached_{kind}_policies")
    pages = lister.paginate(PaginationConfig={"PageSize": 2}, **who)
    attached = [p for page in pages for p in page["AttachedPolicies"]]
    assert attached == [{"PolicyName": f"att-{kind}-{i}", "PolicyArn": arns[i]} for i in range(3)]
    only_p1 = getattr(iam, f"list_attached_{kind}_policies")(PathPrefix="/p1/", **who)
    assert [p["PolicyArn"] for p in only_p1["AttachedPolicies"]] == [arns[1]]
    assert iam.get_policy(PolicyArn=arns[0])["Policy"]["AttachmentCount"] == 1
    fails(lambda: iam.delete_policy(PolicyArn=arns[0]), "DeleteConflict")
    getattr(iam, _method("detach", kind))(PolicyArn=arns[0], **who)
    message = fails(
        lambda: getattr(iam, _method("detach", kind))(PolicyArn=arns[0], **who), "NoSuchEntity"
    )
    assert "was not found attached" in message
    remaining = getattr(iam, f"list_attached_{kind}_policies")(**who)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in remaining] == arns[1:]


def test_attach_errors(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="att-errors")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/absent"
    fails(lambda: iam.attach_user_policy(UserName="att-errors", PolicyArn=missing), "NoSuchEntity")
    arn = new_policy(iam, "att-errors", READ_IAM)
    fails(lambda: iam.attach_user_policy(UserName="nobody", PolicyArn=arn), "NoSuchEntity")
    arns = [new_policy(iam, f"quota{i}", READ_IAM) for i in range(10)]
    for each in arns:
        iam.attach_user_policy(UserName="att-errors", PolicyArn=each)
    message = fails(
        lambda: iam.attach_user_policy(UserName="att-errors", PolicyArn=arn), "LimitExceeded"
    )
    assert "PerEntity" in message
    attached = iam.list_attached_user_policies(UserName="att-errors")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == arns


def test_list_entities_for_policy(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = new_policy(iam, "shared", READ_IAM)
    iam.create_user(UserName="ent-u1", Path="/ent/")
    iam.create_user(UserName="ent-u2")
    iam.create_group(GroupName="ent-g")
    iam.create_role(RoleName="ent-r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_user_policy(UserName="ent-u1", PolicyArn=arn)
    iam.attach_group_policy(GroupName="ent-g", PolicyArn=arn)
    iam.attach_role_policy(RoleName="ent-r", PolicyArn=arn)
    iam.put_user_permissions_boundary(UserName="ent-u2", PermissionsBoundary=arn)

    def entities(**kwargs: Any) -> tuple[list[str], list[str], list[str]]:
        pages = iam.get_paginator("list_entities_for_policy").paginate(
            PolicyArn=arn, PaginationConfig={"PageSize": 1}, **kwargs
        )
        found: tuple[list[str], list[str], list[str]] = ([], [], [])
        for page in pages:
            found[0].extend(u["UserName"] for u in page["PolicyUsers"])
            found[1].extend(g["GroupName"] for g in page["PolicyGroups"])
            found[2].extend(r["RoleName"] for r in page["PolicyRoles"])
        return found

    assert entities() == (["ent-u1", "ent-u2"], ["ent-g"], ["ent-r"])
    assert entities(PolicyUsageFilter="PermissionsPolicy") == (["ent-u1"], ["ent-g"], ["ent-r"])
    assert entities(PolicyUsageFilter="PermissionsBoundary") == (["ent-u2"], [], [])
    assert entities(EntityFilter="Role") == ([], [], ["ent-r"])
    assert entities(EntityFilter="AWSManagedPolicy") == ([], [], [])
    assert entities(PathPrefix="/ent/") == (["ent-u1"], [], [])
    first = iam.list_entities_for_policy(PolicyArn=arn)
    assert first["PolicyUsers"][0]["UserId"].startswith("AIDA")
    assert first["PolicyRoles"][0]["RoleId"].startswith("AROA")


# --- inline policies ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "create"), KINDS, ids=[k for k, _ in KINDS])
def test_inline_put_get_list_delete(bridge: LiveBridge, kind: str, create: Any) -> None:
    iam: Any = bridge.client("iam")
    name = f"inl-{kind}"
    who = {_param(kind): name}
    create(iam, name)
    for policy_name in ("zeta", "alpha", "mid"):
        getattr(iam, f"put_{kind}_policy")(
            PolicyName=policy_name, PolicyDocument=json.dumps(READ_IAM), **who
        )
    replaced = allow("iam:GetUser")
    getattr(iam, f"put_{kind}_policy")(PolicyName="mid", PolicyDocument=json.dumps(replaced), **who)
    got = getattr(iam, f"get_{kind}_policy")(PolicyName="mid", **{_param(kind): name.upper()})
    assert got[_param(kind)] == name and got["PolicyName"] == "mid"
    assert got["PolicyDocument"] == replaced
    pages = iam.get_paginator(f"list_{kind}_policies").paginate(
        PaginationConfig={"PageSize": 2}, **who
    )
    assert [n for page in pages for n in page["PolicyNames"]] == ["alpha", "mid", "zeta"]
    getattr(iam, f"delete_{kind}_policy")(PolicyName="mid", **who)
    fails(lambda: getattr(iam, f"get_{kind}_policy")(PolicyName="mid", **who), "NoSuchEntity")
    fails(lambda: getattr(iam, f"delete_{kind}_policy")(PolicyName="mid", **who), "NoSuchEntity")
    assert getattr(iam, f"list_{kind}_policies")(**who)["PolicyNames"] == ["alpha", "zeta"]


@pytest.mark.parametrize(
    ("call", "code", "fragments"),
    [
        (
            lambda iam: iam.put_user_policy(
                UserName="inl-bad", PolicyName="p", PolicyDocument=json.dumps(BAD_EFFECT)
            ),
            "MalformedPolicyDocument",
            ("Statement[0].Effect", "`Permit`"),
        ),
        (
            lambda iam: iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(BAD_EFFECT)),
            "MalformedPolicyDocument",
            ("Statement[0].Effect",),
        ),
        (
            lambda iam: iam.put_user_policy(
                UserName="inl-bad", PolicyName="p", PolicyDocument="[1, 2"
            ),
            "MalformedPolicyDocument",
            ("invalid JSON",),
        ),
        (
            lambda iam: iam.put_user_policy(
                UserName="inl-bad", PolicyName="bad name", PolicyDocument=json.dumps(READ_IAM)
            ),
            "ValidationError",
            ("at 'policyName'",),
        ),
        (
            lambda iam: iam.put_user_policy(
                UserName="nobody", PolicyName="p", PolicyDocument=json.dumps(READ_IAM)
            ),
            "NoSuchEntity",
            ("`nobody`",),
        ),
        (
            lambda iam: iam.put_user_policy(
                UserName="inl-bad",
                PolicyName="p",
                PolicyDocument=json.dumps(allow(*[f"iam:Get{i:04}" for i in range(200)])),
            ),
            "LimitExceeded",
            ("2048",),
        ),
        (
            lambda iam: iam.create_policy(
                PolicyName="p", Path="no-slash", PolicyDocument=json.dumps(READ_IAM)
            ),
            "ValidationError",
            ("at 'path'",),
        ),
    ],
    ids=[
        "inline-bad-effect",
        "managed-bad-effect",
        "inline-not-json",
        "bad-policy-name",
        "no-such-user",
        "inline-too-large",
        "managed-bad-path",
    ],
)
def test_policy_write_errors_change_nothing(
    bridge: LiveBridge, call: Any, code: str, fragments: tuple[str, ...]
) -> None:
    iam = unchecked_client(bridge)
    if "inl-bad" not in [u["UserName"] for u in iam.list_users()["Users"]]:
        iam.create_user(UserName="inl-bad")
    message = fails(lambda: call(iam), code)
    for fragment in fragments:
        assert fragment in message
    assert iam.list_user_policies(UserName="inl-bad")["PolicyNames"] == []
    listed = iam.list_policies(Scope="Local")["Policies"]
    assert "p" not in [p["PolicyName"] for p in listed]


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda iam: iam.get_policy(PolicyArn="not-an-arn-but-long-enough"), "policyArn"),
        (
            lambda iam: iam.get_policy_version(
                PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/x", VersionId="1"
            ),
            "versionId",
        ),
        (lambda iam: iam.list_policies(Scope="Mine"), "scope"),
        (lambda iam: iam.list_policies(PathPrefix="/no-trailing"), "pathPrefix"),
        (lambda iam: iam.list_policies(MaxItems=0), "maxItems"),
        (
            lambda iam: iam.list_entities_for_policy(
                PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/x", EntityFilter="Robot"
            ),
            "entityFilter",
        ),
    ],
    ids=["arn", "version-id", "scope", "path-prefix", "max-items", "entity-filter"],
)
def test_validation_errors_name_the_parameter(
    bridge: LiveBridge, call: Any, parameter: str
) -> None:
    message = fails(lambda: call(unchecked_client(bridge)), "ValidationError")
    assert f"at '{parameter}'" in message


# --- what the policies allow -------------------------------------------------------


def _user_client(bridge: LiveBridge, iam: Any, name: str) -> Any:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return bridge.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_inline_read_policy_allows_reads_and_denies_writes(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    reader = _user_client(bridge, iam, "inline-reader")
    denied = fails(reader.list_roles, "AccessDenied")
    assert "iam:ListRoles" in denied
    iam.put_user_policy(
        UserName="inline-reader", PolicyName="read", PolicyDocument=json.dumps(READ_IAM)
    )
    assert reader.get_user(UserName="inline-reader")["User"]["UserName"] == "inline-reader"
    assert (
        reader.get_user_policy(UserName="inline-reader", PolicyName="read")["PolicyDocument"]
        == READ_IAM
    )
    reader.list_roles()
    message = fails(
        lambda: reader.create_role(RoleName="sneaky", AssumeRolePolicyDocument=json.dumps(TRUST)),
        "AccessDenied",
    )
    assert "perform: iam:CreateRole on resource: " in message
    assert f"arn:aws:iam::{ACCOUNT}:role/sneaky" in message
    assert f"arn:aws:iam::{ACCOUNT}:user/inline-reader" in message
    fails(lambda: iam.get_role(RoleName="sneaky"), "NoSuchEntity")
    iam.delete_user_policy(UserName="inline-reader", PolicyName="read")
    fails(reader.list_roles, "AccessDenied")


def test_attached_read_policy_stops_working_once_detached(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    reader = _user_client(bridge, iam, "attached-reader")
    arn = new_policy(iam, "ReadIam", READ_IAM)
    iam.attach_user_policy(UserName="attached-reader", PolicyArn=arn)
    assert reader.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    message = fails(
        lambda: reader.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("*"))),
        "AccessDenied",
    )
    assert f"iam:CreatePolicyVersion on resource: {arn}" in message
    message = fails(
        lambda: reader.detach_user_policy(UserName="attached-reader", PolicyArn=arn),
        "AccessDenied",
    )
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/attached-reader" in message
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1
    iam.detach_user_policy(UserName="attached-reader", PolicyArn=arn)
    message = fails(lambda: reader.get_policy(PolicyArn=arn), "AccessDenied")
    assert f"iam:GetPolicy on resource: {arn}" in message


def test_group_policy_applies_to_members(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    member = _user_client(bridge, iam, "member")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="r", PolicyDocument=json.dumps(READ_IAM))
    fails(member.list_roles, "AccessDenied")
    iam.add_user_to_group(GroupName="readers", UserName="member")
    member.list_roles()


def test_permissions_boundary_narrows_a_user(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    user = _user_client(bridge, iam, "narrowed")
    iam.put_user_policy(
        UserName="narrowed", PolicyName="all-iam", PolicyDocument=json.dumps(allow("iam:*"))
    )
    user.list_roles()
    boundary = new_policy(iam, "OnlyGetUser", allow("iam:GetUser"))
    iam.put_user_permissions_boundary(UserName="narrowed", PermissionsBoundary=boundary)
    got = iam.get_user(UserName="narrowed")["User"]["PermissionsBoundary"]
    assert got["PermissionsBoundaryArn"] == boundary
    assert user.get_user(UserName="narrowed")["User"]["UserName"] == "narrowed"
    assert "iam:ListRoles" in fails(user.list_roles, "AccessDenied")
    fails(lambda: user.delete_user_permissions_boundary(UserName="narrowed"), "AccessDenied")
    iam.delete_user_permissions_boundary(UserName="narrowed")
    assert "PermissionsBoundary" not in iam.get_user(UserName="narrowed")["User"]
    user.list_roles()


def test_user_boundary_errors(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="ub")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/absent"
    fails(
        lambda: iam.put_user_permissions_boundary(UserName="ub", PermissionsBoundary=missing),
        "NoSuchEntity",
    )
    assert "PermissionsBoundary" not in iam.get_user(UserName="ub")["User"]
    fails(lambda: iam.delete_user_permissions_boundary(UserName="ghost"), "NoSuchEntity")
