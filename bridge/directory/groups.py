"""IAM groups and their members (many users, many groups per user, no nesting)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.directory.lookup import require_group, require_user
from bridge.errors import AlreadyExists, DeleteConflict, LimitExceeded, NotFound
from bridge.storage.interfaces import Group, UnitOfWork, User

MAX_GROUPS_PER_USER = 10
T = TypeVar("T")


class Groups:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def arn(self, group: Group) -> str:
        return ids.entity_arn(self._ctx.account_id, "group", group.path, group.name)

    def create(self, name: str, path: str = "/") -> Group:
        validation.group_name(name)
        validation.path(path)
        with self._ctx.store.transaction() as uow:
            _ensure_free(uow, name)
            group = Group(
                group_id=ids.unique_id(self._ctx.rng, "group"),
                name=name,
                path=path,
                created_at=self._ctx.clock.now(),
            )
            uow.groups.add(group)
            return group

    def get(self, name: str) -> Group:
        with self._ctx.store.transaction() as uow:
            return require_group(uow, name)

    def list(self, path_prefix: str = "/") -> list[Group]:
        validation.path_prefix(path_prefix)
        with self._ctx.store.transaction() as uow:
            return uow.groups.list(path_prefix)

    def update(
        self, name: str, *, new_name: str | None = None, new_path: str | None = None
    ) -> Group:
        if new_name is not None:
            validation.group_name(new_name, "new_group_name")
        if new_path is not None:
            validation.path(new_path, "new_path")
        with self._ctx.store.transaction() as uow:
            group = require_group(uow, name)
            if new_name is not None and new_name.lower() != group.name.lower():
                _ensure_free(uow, new_name)
            updated = replace(group, name=new_name or group.name, path=new_path or group.path)
            uow.groups.update(updated)
            return updated

    def delete(self, name: str) -> None:
        """IAM `DeleteGroup`: refused while the group has members or policies."""
        with self._ctx.store.transaction() as uow:
            group = require_group(uow, name)
            if uow.memberships.users_of(group.group_id):
                raise DeleteConflict("cannot delete entity, must remove users from group first")
            if uow.inline_policies.list(group.group_id):
                raise DeleteConflict("cannot delete entity, must delete policies first")
            if uow.attachments.policies_of(group.group_id):
                raise DeleteConflict("cannot delete entity, must detach all policies first")
            uow.groups.remove(group.group_id)

    def add_user(self, group_name: str, user_name: str) -> None:
        """IAM `AddUserToGroup`; adding a member again changes nothing."""
        with self._ctx.store.transaction() as uow:
            group = require_group(uow, group_name)
            user = require_user(uow, user_name)
            joined = uow.memberships.groups_of(user.user_id)
            if group.group_id in joined:
                return
            if len(joined) >= MAX_GROUPS_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
            uow.memberships.add(group.group_id, user.user_id)

    def remove_user(self, group_name: str, user_name: str) -> None:
        with self._ctx.store.transaction() as uow:
            group = require_group(uow, group_name)
            user = require_user(uow, user_name)
            if group.group_id not in uow.memberships.groups_of(user.user_id):
                raise NotFound(f"User `{user_name}` is not in group `{group_name}`")
            uow.memberships.remove(group.group_id, user.user_id)

    def groups_for_user(self, user_name: str) -> builtins.list[Group]:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, user_name)
            return _existing(uow.groups.get(gid) for gid in uow.memberships.groups_of(user.user_id))

    def users_in_group(self, group_name: str) -> builtins.list[User]:
        with self._ctx.store.transaction() as uow:
            group = require_group(uow, group_name)
            return _existing(uow.users.get(uid) for uid in uow.memberships.users_of(group.group_id))


def _existing(items: Iterable[T | None]) -> list[T]:
    """Drop ids whose entity vanished (a store keeps relations and entities together)."""
    return [item for item in items if item is not None]


def _ensure_free(uow: UnitOfWork, name: str) -> None:
    if uow.groups.by_name(name) is not None:
        raise AlreadyExists(f"Group with name `{name}` already exists")
