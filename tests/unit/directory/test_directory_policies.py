from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from directory_support import MALFORMED_DOC, identity_doc, trust_doc

from bridge.directory import Directory
from bridge.errors import (
    AlreadyExists,
    DeleteConflict,
    InvalidInput,
    LimitExceeded,
    MalformedPolicy,
    NotFound,
)
from bridge.storage.interfaces import Tag

Snapshot = Callable[[], dict[str, Any]]


def sized_doc(size: int) -> str:
    """An identity document of exactly `size` characters once whitespace is left out."""
    base = identity_doc(resource="arn:aws:s3:::")
    compact_len = sum(1 for ch in base if not ch.isspace())
    return identity_doc(resource="arn:aws:s3:::" + "x" * (size - compact_len))


def test_sized_doc_counts_without_whitespace():
    assert sum(1 for ch in sized_doc(500) if not ch.isspace()) == 500


def test_create_policy_has_default_v1(directory: Directory):
    policy = directory.policies.create("read", identity_doc(), "/team/", description="reads")
    arn = directory.policies.arn(policy)
    assert arn == "arn:aws:iam::123456789012:policy/team/read"
    assert policy.policy_id.startswith("ANPA")
    assert policy.default_version_id == "v1"
    assert directory.policies.get_version(arn, "v1").document == identity_doc()
    assert directory.policies.get(arn) == policy


@pytest.mark.parametrize(
    ("size", "error"),
    [(6144, None), (6145, LimitExceeded)],
    ids=["at-quota", "over-quota"],
)
def test_managed_policy_size(directory: Directory, size: int, error):
    if error is None:
        directory.policies.create("big", sized_doc(size))
    else:
        with pytest.raises(error, match="PolicySize: 6144"):
            directory.policies.create("big", sized_doc(size))


def test_create_rejects_malformed_and_leaves_store(directory: Directory, snapshot: Snapshot):
    before = snapshot()
    with pytest.raises(MalformedPolicy) as caught:
        directory.policies.create("bad", MALFORMED_DOC)
    assert caught.value.path == "Statement[0].Effect"
    with pytest.raises(MalformedPolicy):
        directory.policies.create("trusty", trust_doc())
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "a b"}, "policy_name"),
        ({"path": "x"}, "path"),
        ({"description": "d" * 1001}, "description"),
    ],
    ids=["name", "path", "description"],
)
def test_create_rejects_input(directory: Directory, kwargs, field: str):
    arguments: dict[str, Any] = {"name": "read", "document": identity_doc(), **kwargs}
    with pytest.raises(InvalidInput) as caught:
        directory.policies.create(**arguments)
    assert caught.value.field == field


def test_duplicate_and_missing_policy(directory: Directory):
    policy = directory.policies.create("read", identity_doc())
    with pytest.raises(AlreadyExists):
        directory.policies.create("READ", identity_doc())
    with pytest.raises(NotFound):
        directory.policies.get("arn:aws:iam::123456789012:policy/nope")
    with pytest.raises(NotFound):
        directory.policies.get("arn:aws:iam::123456789012:policy/other-path/read")
    with pytest.raises(NotFound):
        directory.policies.get_version(directory.policies.arn(policy), "v9")
    with pytest.raises(InvalidInput):
        directory.policies.get("arn:aws:iam::123456789012:user/read")


def test_versions_lifecycle(directory: Directory):
    arn = directory.policies.arn(directory.policies.create("p", identity_doc("s3:a")))
    v2 = directory.policies.create_version(arn, identity_doc("s3:b"))
    assert v2.version_id == "v2"
    assert directory.policies.get(arn).default_version_id == "v1"
    v3 = directory.policies.create_version(arn, identity_doc("s3:c"), set_as_default=True)
    assert directory.policies.get(arn).default_version_id == "v3"
    assert directory.policies.default_document(arn) == v3.document
    directory.policies.set_default_version(arn, "v2")
    assert directory.policies.default_document(arn) == v2.document
    directory.policies.delete_version(arn, "v1")
    assert [v.version_id for v in directory.policies.list_versions(arn)] == ["v2", "v3"]
    assert directory.policies.create_version(arn, identity_doc()).version_id == "v4"


def test_at_most_five_versions(directory: Directory, snapshot: Snapshot):
    arn = directory.policies.arn(directory.policies.create("p", identity_doc()))
    for _ in range(4):
        directory.policies.create_version(arn, identity_doc())
    before = snapshot()
    with pytest.raises(LimitExceeded, match="up to 5 versions"):
        directory.policies.create_version(arn, identity_doc(), set_as_default=True)
    assert snapshot() == before


def test_version_rules(directory: Directory, snapshot: Snapshot):
    arn = directory.policies.arn(directory.policies.create("p", identity_doc()))
    before = snapshot()
    with pytest.raises(DeleteConflict, match="default version"):
        directory.policies.delete_version(arn, "v1")
    with pytest.raises(NotFound):
        directory.policies.set_default_version(arn, "v2")
    with pytest.raises(MalformedPolicy):
        directory.policies.create_version(arn, MALFORMED_DOC)
    assert snapshot() == before


def _attached(d: Directory, arn: str) -> None:
    d.users.create("alice")
    d.attachments.attach("user", "alice", arn)


def _boundary_of_user(d: Directory, arn: str) -> None:
    d.users.create("alice", permissions_boundary=arn)


def _boundary_of_role(d: Directory, arn: str) -> None:
    d.roles.create("admin", trust_doc(), permissions_boundary=arn)


def _extra_version(d: Directory, arn: str) -> None:
    d.policies.create_version(arn, identity_doc())


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (_attached, "attached to entities"),
        (_boundary_of_user, "permissions boundary"),
        (_boundary_of_role, "permissions boundary"),
        (_extra_version, "more than one version"),
    ],
    ids=["attached", "user-boundary", "role-boundary", "non-default-version"],
)
def test_delete_policy_conflicts(directory: Directory, snapshot: Snapshot, setup, reason: str):
    arn = directory.policies.arn(directory.policies.create("p", identity_doc()))
    setup(directory, arn)
    before = snapshot()
    with pytest.raises(DeleteConflict, match=reason):
        directory.policies.delete(arn)
    assert snapshot() == before


def test_delete_policy_removes_versions(directory: Directory, store):
    policy = directory.policies.create("p", identity_doc())
    directory.policies.delete(directory.policies.arn(policy))
    with store.transaction() as uow:
        assert uow.policy_versions.list(policy.policy_id) == []
        assert uow.policies.list() == []


def test_list_policies(directory: Directory):
    read = directory.policies.create("read", identity_doc(), "/team/")
    directory.policies.create("write", identity_doc())
    directory.users.create("alice")
    directory.attachments.attach("user", "alice", directory.policies.arn(read))
    assert [p.name for p in directory.policies.list()] == ["read", "write"]
    assert [p.name for p in directory.policies.list(scope="Local", only_attached=True)] == ["read"]
    assert [p.name for p in directory.policies.list(path_prefix="/team/")] == ["read"]
    assert directory.policies.list(scope="AWS") == []


def test_policy_tags(directory: Directory):
    arn = directory.policies.arn(
        directory.policies.create("p", identity_doc(), tags=[Tag("a", "1")])
    )
    directory.policies.tag(arn, [Tag("b", "2")])
    directory.policies.untag(arn, ["A"])
    assert directory.policies.list_tags(arn) == (Tag("b", "2"),)


def test_attach_detach_and_entities(directory: Directory):
    arn = directory.policies.arn(directory.policies.create("p", identity_doc()))
    directory.users.create("alice")
    directory.groups.create("devs")
    directory.roles.create("admin", trust_doc())
    for kind, name in (("user", "alice"), ("group", "devs"), ("role", "admin")):
        directory.attachments.attach(kind, name, arn)
        directory.attachments.attach(kind, name, arn)  # twice is a no-op
        assert [p.name for p in directory.attachments.list_attached(kind, name)] == ["p"]
    entities = directory.policies.list_entities(arn)
    assert [u.name for u in entities.users] == ["alice"]
    assert [g.name for g in entities.groups] == ["devs"]
    assert [r.name for r in entities.roles] == ["admin"]
    directory.attachments.detach("group", "devs", arn)
    assert directory.attachments.list_attached("group", "devs") == []
    with pytest.raises(NotFound, match="not found attached"):
        directory.attachments.detach("group", "devs", arn)


@pytest.mark.parametrize(
    ("kind", "name", "quota"),
    [
        ("user", "alice", "UserPolicies"),
        ("group", "devs", "GroupPolicies"),
        ("role", "admin", "RolePolicies"),
    ],
    ids=["user", "group", "role"],
)
def test_at_most_ten_attached(directory: Directory, snapshot: Snapshot, kind, name, quota):
    directory.users.create("alice")
    directory.groups.create("devs")
    directory.roles.create("admin", trust_doc())
    arns = [
        directory.policies.arn(directory.policies.create(f"p{i}", identity_doc()))
        for i in range(11)
    ]
    for arn in arns[:10]:
        directory.attachments.attach(kind, name, arn)
    before = snapshot()
    with pytest.raises(LimitExceeded, match=f"{quota}PerEntity: 10"):
        directory.attachments.attach(kind, name, arns[10])
    assert snapshot() == before


def test_attach_missing(directory: Directory):
    directory.users.create("alice")
    with pytest.raises(NotFound):
        directory.attachments.attach("user", "alice", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    arn = directory.policies.arn(directory.policies.create("p", identity_doc()))
    with pytest.raises(NotFound, match="The role with name `ghost`"):
        directory.attachments.attach("role", "ghost", arn)


def test_inline_put_get_list_delete(directory: Directory):
    directory.users.create("alice")
    directory.inline_policies.put("user", "alice", "b", identity_doc("s3:b"))
    directory.inline_policies.put("user", "alice", "a", identity_doc("s3:a"))
    directory.inline_policies.put("user", "alice", "a", identity_doc("s3:c"))  # replaces
    assert directory.inline_policies.list("user", "alice") == ["a", "b"]
    assert directory.inline_policies.get("user", "alice", "a").document == identity_doc("s3:c")
    directory.inline_policies.delete("user", "alice", "a")
    assert directory.inline_policies.list("user", "alice") == ["b"]
    with pytest.raises(NotFound, match="The user policy with name `a` cannot be found"):
        directory.inline_policies.get("user", "alice", "a")
    with pytest.raises(NotFound):
        directory.inline_policies.delete("user", "alice", "a")


@pytest.mark.parametrize(
    ("kind", "name", "limit"),
    [("user", "alice", 2048), ("group", "devs", 5120), ("role", "admin", 10240)],
    ids=["user", "group", "role"],
)
def test_inline_aggregate_size(directory: Directory, snapshot: Snapshot, kind, name, limit: int):
    directory.users.create("alice")
    directory.groups.create("devs")
    directory.roles.create("admin", trust_doc())
    half = limit // 2
    directory.inline_policies.put(kind, name, "one", sized_doc(half))
    directory.inline_policies.put(kind, name, "two", sized_doc(limit - half))
    directory.inline_policies.put(kind, name, "two", sized_doc(limit - half))  # replacing fits
    before = snapshot()
    with pytest.raises(LimitExceeded) as caught:
        directory.inline_policies.put(kind, name, "two", sized_doc(limit - half + 1))
    assert (
        caught.value.message == f"Maximum policy size of {limit} bytes exceeded for {kind} `{name}`"
    )
    assert snapshot() == before


def test_inline_rejects_malformed(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    before = snapshot()
    with pytest.raises(MalformedPolicy):
        directory.inline_policies.put("user", "alice", "bad", MALFORMED_DOC)
    with pytest.raises(InvalidInput, match="policy_name"):
        directory.inline_policies.put("user", "alice", "bad name", identity_doc())
    assert snapshot() == before


def test_policies_for_user_include_groups_and_boundary(directory: Directory):
    boundary = directory.policies.create("boundary", identity_doc("s3:*"))
    managed = directory.policies.create("managed", identity_doc("ec2:a"))
    group_managed = directory.policies.create("group-managed", identity_doc("ec2:b"))
    user = directory.users.create("alice", permissions_boundary=directory.policies.arn(boundary))
    directory.groups.create("devs")
    directory.groups.add_user("devs", "alice")
    directory.inline_policies.put("user", "alice", "own", identity_doc("s3:own"))
    directory.attachments.attach("user", "alice", directory.policies.arn(managed))
    directory.inline_policies.put("group", "devs", "shared", identity_doc("s3:shared"))
    directory.attachments.attach("group", "devs", directory.policies.arn(group_managed))
    directory.policies.create_version(
        directory.policies.arn(managed), identity_doc("ec2:v2"), set_as_default=True
    )
    effective = directory.policies_for_user(user.user_id)
    base = "arn:aws:iam::123456789012:"
    assert effective.identity == (
        (f"{base}user/alice#inline/own", identity_doc("s3:own")),
        (f"{base}policy/managed:v2", identity_doc("ec2:v2")),
        (f"{base}group/devs#inline/shared", identity_doc("s3:shared")),
        (f"{base}policy/group-managed:v1", identity_doc("ec2:b")),
    )
    assert effective.boundary == identity_doc("s3:*")


def test_policies_for_role(directory: Directory):
    role = directory.roles.create("admin", trust_doc())
    directory.inline_policies.put("role", "admin", "own", identity_doc("s3:own"))
    effective = directory.policies_for_role(role.role_id)
    assert effective.identity == (
        ("arn:aws:iam::123456789012:role/admin#inline/own", identity_doc("s3:own")),
    )
    assert effective.boundary is None
    with pytest.raises(NotFound):
        directory.policies_for_role("AROAMISSING")
    with pytest.raises(NotFound):
        directory.policies_for_user("AIDAMISSING")
