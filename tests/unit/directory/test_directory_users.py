from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from directory_support import identity_doc, totp_code

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.errors import AlreadyExists, DeleteConflict, InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import Tag

Snapshot = Callable[[], dict[str, Any]]


def test_create_get_and_arn(directory: Directory):
    created = directory.users.create("alice", "/eng/", tags=[Tag("team", "platform")])
    fetched = directory.users.get("ALICE")
    assert fetched == created
    assert created.user_id.startswith("AIDA")
    assert directory.users.arn(created) == "arn:aws:iam::123456789012:user/eng/alice"
    assert directory.users.list_tags("alice") == (Tag("team", "platform"),)


@pytest.mark.parametrize(
    ("name", "path", "field"),
    [("bad name", "/", "user_name"), ("bob", "nope", "path"), ("x" * 65, "/", "user_name")],
    ids=["bad-name", "bad-path", "long-name"],
)
def test_create_rejects_bad_input(directory: Directory, snapshot: Snapshot, name, path, field):
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        directory.users.create(name, path)
    assert caught.value.field == field
    assert snapshot() == before


def test_create_duplicate_name_any_case(directory: Directory):
    directory.users.create("alice")
    with pytest.raises(AlreadyExists, match="`Alice`"):
        directory.users.create("Alice")


def test_get_missing_user_message(directory: Directory):
    with pytest.raises(NotFound) as caught:
        directory.users.get("ghost")
    assert caught.value.message == "The user with name `ghost` cannot be found"


def test_list_by_path_prefix(directory: Directory):
    for name, path in [("carol", "/ops/"), ("alice", "/eng/"), ("bob", "/eng/web/")]:
        directory.users.create(name, path)
    assert [u.name for u in directory.users.list("/eng/")] == ["alice", "bob"]
    assert [u.name for u in directory.users.list()] == ["alice", "bob", "carol"]
    with pytest.raises(InvalidInput):
        directory.users.list("eng")


def test_update_renames_and_moves_keeping_relations(directory: Directory):
    user = directory.users.create("alice")
    directory.groups.create("devs")
    directory.groups.add_user("devs", "alice")
    directory.keys.create("alice")
    renamed = directory.users.update("alice", new_name="alicia", new_path="/eng/")
    assert (renamed.user_id, renamed.name, renamed.path) == (user.user_id, "alicia", "/eng/")
    assert [g.name for g in directory.groups.groups_for_user("alicia")] == ["devs"]
    assert len(directory.keys.list("alicia")) == 1
    with pytest.raises(NotFound):
        directory.users.get("alice")


def test_update_case_only_rename_is_allowed(directory: Directory):
    directory.users.create("alice")
    assert directory.users.update("alice", new_name="Alice").name == "Alice"


def test_update_to_taken_name_fails(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    directory.users.create("bob")
    before = snapshot()
    with pytest.raises(AlreadyExists):
        directory.users.update("alice", new_name="BOB")
    assert snapshot() == before


def _with_login_profile(d: Directory, clock: FixedClock) -> None:
    d.login_profiles.create("alice", "long enough password")


def _with_key(d: Directory, clock: FixedClock) -> None:
    d.keys.create("alice")


def _with_mfa(d: Directory, clock: FixedClock) -> None:
    created = d.mfa.create_virtual("phone")
    step = int(clock.now().timestamp()) // 30
    code1, code2 = totp_code(created.seed_base32, step), totp_code(created.seed_base32, step + 1)
    d.mfa.enable("alice", created.device.serial_number, code1, code2)


def _with_inline(d: Directory, clock: FixedClock) -> None:
    d.inline_policies.put("user", "alice", "inline", identity_doc())


def _with_attached(d: Directory, clock: FixedClock) -> None:
    policy = d.policies.create("read", identity_doc())
    d.attachments.attach("user", "alice", d.policies.arn(policy))


def _with_group(d: Directory, clock: FixedClock) -> None:
    d.groups.create("devs")
    d.groups.add_user("devs", "alice")


@pytest.mark.parametrize(
    ("setup", "leftover"),
    [
        (_with_login_profile, "must delete login profile first"),
        (_with_key, "must delete access keys first"),
        (_with_mfa, "must delete MFA devices first"),
        (_with_inline, "must delete policies first"),
        (_with_attached, "must detach all policies first"),
        (_with_group, "must remove user from all groups first"),
    ],
    ids=["login-profile", "access-key", "mfa", "inline-policy", "attached-policy", "group"],
)
def test_delete_conflicts_name_what_is_left(
    directory: Directory, clock: FixedClock, snapshot: Snapshot, setup, leftover: str
):
    directory.users.create("alice")
    setup(directory, clock)
    before = snapshot()
    with pytest.raises(DeleteConflict) as caught:
        directory.users.delete("alice")
    assert caught.value.message == f"cannot delete entity, {leftover}"
    assert snapshot() == before


def test_delete_plain_user(directory: Directory):
    directory.users.create("alice")
    directory.users.delete("alice")
    assert directory.users.list() == []
    with pytest.raises(NotFound):
        directory.users.delete("alice")


def test_tag_untag(directory: Directory):
    directory.users.create("alice", tags=[Tag("Team", "a")])
    directory.users.tag("alice", [Tag("team", "b"), Tag("env", "prod")])
    assert directory.users.list_tags("alice") == (Tag("team", "b"), Tag("env", "prod"))
    directory.users.untag("alice", ["ENV", "absent"])
    assert directory.users.list_tags("alice") == (Tag("team", "b"),)


def test_tag_limit_leaves_tags_unchanged(directory: Directory):
    directory.users.create("alice", tags=[Tag(f"k{i}", "v") for i in range(50)])
    with pytest.raises(LimitExceeded):
        directory.users.tag("alice", [Tag("extra", "v")])
    assert len(directory.users.list_tags("alice")) == 50


def test_permissions_boundary(directory: Directory):
    arn = directory.policies.arn(directory.policies.create("boundary", identity_doc()))
    directory.users.create("alice", permissions_boundary=arn)
    assert directory.users.get("alice").permissions_boundary_arn == arn
    directory.users.delete_permissions_boundary("alice")
    assert directory.users.get("alice").permissions_boundary_arn is None
    directory.users.put_permissions_boundary("alice", arn)
    assert directory.users.get("alice").permissions_boundary_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:policy/absent",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::210987654321:policy/boundary",
    ],
    ids=["absent", "aws-managed", "other-account"],
)
def test_boundary_must_be_an_existing_managed_policy(
    directory: Directory, snapshot: Snapshot, arn: str
):
    directory.policies.create("boundary", identity_doc())
    directory.users.create("alice")
    before = snapshot()
    with pytest.raises(NotFound):
        directory.users.put_permissions_boundary("alice", arn)
    with pytest.raises(NotFound):
        directory.users.create("bob", permissions_boundary=arn)
    assert snapshot() == before
