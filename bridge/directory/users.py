"""IAM users: create, read, list, rename/move, delete, tags and permissions boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.directory.lookup import require_boundary, require_user
from bridge.errors import AlreadyExists, DeleteConflict
from bridge.storage.interfaces import Tag, UnitOfWork, User


class Users:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def arn(self, user: User) -> str:
        return ids.entity_arn(self._ctx.account_id, "user", user.path, user.name)

    def create(
        self,
        name: str,
        path: str = "/",
        *,
        tags: Sequence[Tag] = (),
        permissions_boundary: str | None = None,
    ) -> User:
        validation.user_name(name)
        validation.path(path)
        checked_tags = validation.tags(tags)
        with self._ctx.store.transaction() as uow:
            _ensure_free(uow, name)
            if permissions_boundary is not None:
                require_boundary(uow, self._ctx.account_id, permissions_boundary)
            user = User(
                user_id=ids.unique_id(self._ctx.rng, "user"),
                name=name,
                path=path,
                created_at=self._ctx.clock.now(),
                permissions_boundary_arn=permissions_boundary,
                tags=checked_tags,
            )
            uow.users.add(user)
            return user

    def get(self, name: str) -> User:
        with self._ctx.store.transaction() as uow:
            return require_user(uow, name)

    def list(self, path_prefix: str = "/") -> list[User]:
        validation.path_prefix(path_prefix)
        with self._ctx.store.transaction() as uow:
            return uow.users.list(path_prefix)

    def update(
        self, name: str, *, new_name: str | None = None, new_path: str | None = None
    ) -> User:
        """IAM `UpdateUser`: rename and/or move; relations follow (they are keyed by id)."""
        if new_name is not None:
            validation.user_name(new_name, "new_user_name")
        if new_path is not None:
            validation.path(new_path, "new_path")
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            if new_name is not None and new_name.lower() != user.name.lower():
                _ensure_free(uow, new_name)
            updated = replace(user, name=new_name or user.name, path=new_path or user.path)
            uow.users.update(updated)
            return updated

    def delete(self, name: str) -> None:
        """IAM `DeleteUser`: refused while anything still hangs on the user."""
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            leftover = _leftover(uow, user.user_id)
            if leftover is not None:
                raise DeleteConflict(f"cannot delete entity, must {leftover} first")
            uow.users.remove(user.user_id)

    def tag(self, name: str, tags: Sequence[Tag]) -> None:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            uow.users.update(replace(user, tags=validation.merge_tags(user.tags, tags)))

    def untag(self, name: str, keys: Sequence[str]) -> None:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            uow.users.update(replace(user, tags=validation.remove_tags(user.tags, keys)))

    def list_tags(self, name: str) -> tuple[Tag, ...]:
        return self.get(name).tags

    def put_permissions_boundary(self, name: str, policy_arn: str) -> None:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            require_boundary(uow, self._ctx.account_id, policy_arn)
            uow.users.update(replace(user, permissions_boundary_arn=policy_arn))

    def delete_permissions_boundary(self, name: str) -> None:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, name)
            uow.users.update(replace(user, permissions_boundary_arn=None))


def _ensure_free(uow: UnitOfWork, name: str) -> None:
    if uow.users.by_name(name) is not None:
        raise AlreadyExists(f"User with name `{name}` already exists")


def _leftover(uow: UnitOfWork, user_id: str) -> str | None:
    """What must go before a user can be deleted, in IAM's order, or None."""
    checks = (
        (uow.login_profiles.get(user_id) is not None, "delete login profile"),
        (bool(uow.access_keys.list_for(user_id)), "delete access keys"),
        (bool(uow.mfa_devices.list(user_id)), "delete MFA devices"),
        (bool(uow.inline_policies.list(user_id)), "delete policies"),
        (bool(uow.attachments.policies_of(user_id)), "detach all policies"),
        (bool(uow.memberships.groups_of(user_id)), "remove user from all groups"),
    )
    return next((what for present, what in checks if present), None)
