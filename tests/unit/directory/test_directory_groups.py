from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from directory_support import identity_doc

from bridge.directory import Directory
from bridge.errors import AlreadyExists, DeleteConflict, InvalidInput, LimitExceeded, NotFound

Snapshot = Callable[[], dict[str, Any]]


def test_create_get_list_update(directory: Directory):
    group = directory.groups.create("devs", "/eng/")
    directory.groups.create("ops")
    assert group.group_id.startswith("AGPA")
    assert directory.groups.arn(group) == "arn:aws:iam::123456789012:group/eng/devs"
    assert directory.groups.get("DEVS") == group
    assert [g.name for g in directory.groups.list("/eng/")] == ["devs"]
    moved = directory.groups.update("devs", new_name="developers", new_path="/")
    assert (moved.group_id, moved.name, moved.path) == (group.group_id, "developers", "/")


@pytest.mark.parametrize(
    ("name", "path", "field"),
    [("g" * 129, "/", "group_name"), ("a:b", "/", "group_name"), ("devs", "/x", "path")],
    ids=["long-name", "bad-char", "bad-path"],
)
def test_create_rejects(directory: Directory, name: str, path: str, field: str):
    with pytest.raises(InvalidInput) as caught:
        directory.groups.create(name, path)
    assert caught.value.field == field


def test_duplicates_and_missing(directory: Directory):
    directory.groups.create("devs")
    directory.groups.create("ops")
    with pytest.raises(AlreadyExists):
        directory.groups.create("Devs")
    with pytest.raises(AlreadyExists):
        directory.groups.update("ops", new_name="DEVS")
    with pytest.raises(NotFound, match="The group with name `ghost` cannot be found"):
        directory.groups.get("ghost")


def test_membership_both_ways(directory: Directory):
    for name in ("alice", "bob"):
        directory.users.create(name)
    for name in ("devs", "ops"):
        directory.groups.create(name)
    directory.groups.add_user("devs", "alice")
    directory.groups.add_user("devs", "bob")
    directory.groups.add_user("ops", "alice")
    directory.groups.add_user("ops", "alice")  # a second add changes nothing
    assert [u.name for u in directory.groups.users_in_group("devs")] == ["alice", "bob"]
    assert [g.name for g in directory.groups.groups_for_user("alice")] == ["devs", "ops"]
    directory.groups.remove_user("devs", "alice")
    assert [g.name for g in directory.groups.groups_for_user("alice")] == ["ops"]


def test_remove_non_member_is_not_found(directory: Directory):
    directory.users.create("alice")
    directory.groups.create("devs")
    with pytest.raises(NotFound):
        directory.groups.remove_user("devs", "alice")


def test_add_user_missing_entities(directory: Directory):
    directory.users.create("alice")
    with pytest.raises(NotFound, match="group"):
        directory.groups.add_user("ghosts", "alice")
    directory.groups.create("devs")
    with pytest.raises(NotFound, match="user"):
        directory.groups.add_user("devs", "ghost")


def test_at_most_ten_groups_per_user(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    for i in range(11):
        directory.groups.create(f"g{i}")
    for i in range(10):
        directory.groups.add_user(f"g{i}", "alice")
    before = snapshot()
    with pytest.raises(LimitExceeded, match="GroupsPerUser: 10"):
        directory.groups.add_user("g10", "alice")
    assert snapshot() == before


def _member(d: Directory) -> None:
    d.users.create("alice")
    d.groups.add_user("devs", "alice")


def _inline(d: Directory) -> None:
    d.inline_policies.put("group", "devs", "p", identity_doc())


def _attached(d: Directory) -> None:
    arn = d.policies.arn(d.policies.create("read", identity_doc()))
    d.attachments.attach("group", "devs", arn)


@pytest.mark.parametrize(
    ("setup", "leftover"),
    [
        (_member, "must remove users from group first"),
        (_inline, "must delete policies first"),
        (_attached, "must detach all policies first"),
    ],
    ids=["member", "inline-policy", "attached-policy"],
)
def test_delete_conflicts(directory: Directory, snapshot: Snapshot, setup, leftover: str):
    directory.groups.create("devs")
    setup(directory)
    before = snapshot()
    with pytest.raises(DeleteConflict, match=leftover):
        directory.groups.delete("devs")
    assert snapshot() == before


def test_delete_empty_group(directory: Directory):
    directory.groups.create("devs")
    directory.groups.delete("devs")
    assert directory.groups.list() == []
