from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from directory_support import MALFORMED_DOC, identity_doc, trust_doc

from bridge.clock import FixedClock
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


def test_create_and_get(directory: Directory):
    role = directory.roles.create(
        "admin",
        trust_doc(),
        "/fed/",
        description="administrators",
        max_session_duration=7200,
        tags=[Tag("team", "ops")],
    )
    assert role.role_id.startswith("AROA")
    assert directory.roles.arn(role) == "arn:aws:iam::123456789012:role/fed/admin"
    assert directory.roles.get("ADMIN") == role
    assert (role.description, role.max_session_duration) == ("administrators", 7200)
    assert directory.roles.list_tags("admin") == (Tag("team", "ops"),)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "r" * 65}, "role_name"),
        ({"path": "fed"}, "path"),
        ({"description": "d" * 1001}, "description"),
        ({"max_session_duration": 3599}, "max_session_duration"),
        ({"max_session_duration": 43201}, "max_session_duration"),
        ({"tags": [Tag("a", "1"), Tag("A", "2")]}, "tags[1].key"),
    ],
    ids=["long-name", "bad-path", "long-description", "short-session", "long-session", "tags"],
)
def test_create_rejects_input(directory: Directory, snapshot: Snapshot, kwargs, field: str):
    arguments: dict[str, Any] = {"name": "admin", "trust_policy": trust_doc(), **kwargs}
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        directory.roles.create(**arguments)
    assert caught.value.field == field
    assert snapshot() == before


def test_create_rejects_malformed_trust_policy(directory: Directory, snapshot: Snapshot):
    before = snapshot()
    with pytest.raises(MalformedPolicy) as caught:
        directory.roles.create("admin", MALFORMED_DOC)
    assert caught.value.path.startswith("Statement[0]")
    assert snapshot() == before


def test_trust_policy_is_validated_as_trust(directory: Directory):
    with pytest.raises(MalformedPolicy):
        directory.roles.create("admin", identity_doc())


def test_trust_policy_size_limit(directory: Directory):
    padding = "x" * 2048
    statement = {
        "Sid": padding,
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/corp"},
        "Action": "sts:AssumeRoleWithSAML",
    }
    big = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(LimitExceeded, match="ACLSizePerRole: 2048"):
        directory.roles.create("admin", big)


def test_duplicate_role(directory: Directory):
    directory.roles.create("admin", trust_doc())
    with pytest.raises(AlreadyExists):
        directory.roles.create("Admin", trust_doc())


def test_update_changes_only_given_fields(directory: Directory):
    directory.roles.create("admin", trust_doc(), description="first")
    updated = directory.roles.update("admin", max_session_duration=43200)
    assert (updated.description, updated.max_session_duration) == ("first", 43200)
    updated = directory.roles.update("admin", description="")
    assert (updated.description, updated.max_session_duration) == ("", 43200)
    with pytest.raises(InvalidInput):
        directory.roles.update("admin", max_session_duration=100)


def test_update_trust_policy(directory: Directory, snapshot: Snapshot):
    directory.roles.create("admin", trust_doc("corp"))
    directory.roles.update_trust_policy("admin", trust_doc("other"))
    assert "saml-provider/other" in directory.roles.get("admin").trust_policy
    before = snapshot()
    with pytest.raises(MalformedPolicy):
        directory.roles.update_trust_policy("admin", MALFORMED_DOC)
    assert snapshot() == before


def test_record_use(directory: Directory, clock: FixedClock):
    directory.roles.create("admin", trust_doc())
    directory.roles.record_use("admin", "eu-west-1")
    role = directory.roles.get("admin")
    assert (role.last_used_at, role.last_used_region) == (clock.now(), "eu-west-1")


@pytest.mark.parametrize(
    ("inline", "leftover"),
    [(True, "must delete policies first"), (False, "must detach all policies first")],
    ids=["inline-policy", "attached-policy"],
)
def test_delete_conflicts(directory: Directory, snapshot: Snapshot, inline: bool, leftover: str):
    directory.roles.create("admin", trust_doc())
    if inline:
        directory.inline_policies.put("role", "admin", "p", identity_doc())
    else:
        arn = directory.policies.arn(directory.policies.create("read", identity_doc()))
        directory.attachments.attach("role", "admin", arn)
    before = snapshot()
    with pytest.raises(DeleteConflict, match=leftover):
        directory.roles.delete("admin")
    assert snapshot() == before


def test_delete_and_missing(directory: Directory):
    directory.roles.create("admin", trust_doc())
    directory.roles.delete("admin")
    with pytest.raises(NotFound, match="The role with name `admin` cannot be found"):
        directory.roles.get("admin")


def test_tags_and_boundary(directory: Directory):
    arn = directory.policies.arn(directory.policies.create("boundary", identity_doc()))
    directory.roles.create("admin", trust_doc(), permissions_boundary=arn)
    directory.roles.tag("admin", [Tag("env", "prod")])
    directory.roles.untag("admin", ["ENV"])
    assert directory.roles.list_tags("admin") == ()
    directory.roles.delete_permissions_boundary("admin")
    assert directory.roles.get("admin").permissions_boundary_arn is None
    directory.roles.put_permissions_boundary("admin", arn)
    assert directory.roles.get("admin").permissions_boundary_arn == arn
    with pytest.raises(NotFound):
        directory.roles.put_permissions_boundary("admin", arn + "x")


def test_list_by_path_prefix(directory: Directory):
    directory.roles.create("b", trust_doc(), "/fed/")
    directory.roles.create("a", trust_doc(), "/fed/")
    directory.roles.create("c", trust_doc())
    assert [r.name for r in directory.roles.list("/fed/")] == ["a", "b"]
    assert [r.name for r in directory.roles.list()] == ["a", "b", "c"]
