"""IAM roles: trust policy, description, maximum session duration, boundary and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.directory.documents import validate_trust
from bridge.directory.lookup import require_boundary, require_role
from bridge.errors import AlreadyExists, DeleteConflict
from bridge.storage.interfaces import Role, Tag


class Roles:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def arn(self, role: Role) -> str:
        return ids.entity_arn(self._ctx.account_id, "role", role.path, role.name)

    def create(
        self,
        name: str,
        trust_policy: str,
        path: str = "/",
        *,
        description: str = "",
        max_session_duration: int = validation.MIN_SESSION_DURATION,
        permissions_boundary: str | None = None,
        tags: Sequence[Tag] = (),
    ) -> Role:
        validation.role_name(name)
        validation.path(path)
        validation.description(description)
        validation.max_session_duration(max_session_duration)
        checked_tags = validation.tags(tags)
        validate_trust(trust_policy)
        with self._ctx.store.transaction() as uow:
            if uow.roles.by_name(name) is not None:
                raise AlreadyExists(f"Role with name `{name}` already exists")
            if permissions_boundary is not None:
                require_boundary(uow, self._ctx.account_id, permissions_boundary)
            role = Role(
                role_id=ids.unique_id(self._ctx.rng, "role"),
                name=name,
                path=path,
                trust_policy=trust_policy,
                created_at=self._ctx.clock.now(),
                description=description,
                max_session_duration=max_session_duration,
                permissions_boundary_arn=permissions_boundary,
                tags=checked_tags,
            )
            uow.roles.add(role)
            return role

    def get(self, name: str) -> Role:
        with self._ctx.store.transaction() as uow:
            return require_role(uow, name)

    def list(self, path_prefix: str = "/") -> list[Role]:
        validation.path_prefix(path_prefix)
        with self._ctx.store.transaction() as uow:
            return uow.roles.list(path_prefix)

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        max_session_duration: int | None = None,
    ) -> Role:
        """IAM `UpdateRole`: only the fields given change."""
        if description is not None:
            validation.description(description)
        if max_session_duration is not None:
            validation.max_session_duration(max_session_duration)
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            updated = replace(
                role,
                description=role.description if description is None else description,
                max_session_duration=max_session_duration or role.max_session_duration,
            )
            uow.roles.update(updated)
            return updated

    def update_trust_policy(self, name: str, document: str) -> Role:
        """IAM `UpdateAssumeRolePolicy`."""
        validate_trust(document)
        with self._ctx.store.transaction() as uow:
            updated = replace(require_role(uow, name), trust_policy=document)
            uow.roles.update(updated)
            return updated

    def delete(self, name: str) -> None:
        """IAM `DeleteRole`: refused while the role has inline or attached policies."""
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            if uow.inline_policies.list(role.role_id):
                raise DeleteConflict("cannot delete entity, must delete policies first")
            if uow.attachments.policies_of(role.role_id):
                raise DeleteConflict("cannot delete entity, must detach all policies first")
            uow.roles.remove(role.role_id)

    def record_use(self, name: str, region: str) -> None:
        """Remember when and where the role was last assumed (`RoleLastUsed`)."""
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            now = self._ctx.clock.now()
            uow.roles.update(replace(role, last_used_at=now, last_used_region=region))

    def tag(self, name: str, tags: Sequence[Tag]) -> None:
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            uow.roles.update(replace(role, tags=validation.merge_tags(role.tags, tags)))

    def untag(self, name: str, keys: Sequence[str]) -> None:
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            uow.roles.update(replace(role, tags=validation.remove_tags(role.tags, keys)))

    def list_tags(self, name: str) -> tuple[Tag, ...]:
        return self.get(name).tags

    def put_permissions_boundary(self, name: str, policy_arn: str) -> None:
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            require_boundary(uow, self._ctx.account_id, policy_arn)
            uow.roles.update(replace(role, permissions_boundary_arn=policy_arn))

    def delete_permissions_boundary(self, name: str) -> None:
        with self._ctx.store.transaction() as uow:
            role = require_role(uow, name)
            uow.roles.update(replace(role, permissions_boundary_arn=None))
