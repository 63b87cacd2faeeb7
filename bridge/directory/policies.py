"""Customer managed policies and their versions (IAM `CreatePolicy`, `CreatePolicyVersion`, …)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.directory.documents import validate_managed
from bridge.directory.lookup import policy_arn, require_policy
from bridge.errors import AlreadyExists, DeleteConflict, LimitExceeded, NotFound
from bridge.storage.interfaces import (
    Group,
    ManagedPolicy,
    PolicyVersion,
    Role,
    Tag,
    UnitOfWork,
    User,
)

MAX_VERSIONS = 5
Scope = Literal["All", "Local", "AWS"]
T = TypeVar("T")


@dataclass(frozen=True)
class PolicyEntities:
    """IAM `ListEntitiesForPolicy`: who the policy is attached to."""

    users: tuple[User, ...]
    groups: tuple[Group, ...]
    roles: tuple[Role, ...]


class Policies:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def arn(self, policy: ManagedPolicy) -> str:
        return policy_arn(self._ctx.account_id, policy)

    def create(
        self,
        name: str,
        document: str,
        path: str = "/",
        *,
        description: str = "",
        tags: Sequence[Tag] = (),
    ) -> ManagedPolicy:
        """A new policy whose version `v1` is the default."""
        validation.policy_name(name)
        validation.path(path)
        validation.description(description)
        checked_tags = validation.tags(tags)
        validate_managed(document)
        now = self._ctx.clock.now()
        with self._ctx.store.transaction() as uow:
            if uow.policies.by_name(name) is not None:
                raise AlreadyExists(f"A policy called `{name}` already exists")
            policy = ManagedPolicy(
                policy_id=ids.unique_id(self._ctx.rng, "policy"),
                name=name,
                path=path,
                default_version_id="v1",
                created_at=now,
                updated_at=now,
                description=description,
                tags=checked_tags,
            )
            uow.policies.add(policy)
            uow.policy_versions.add(PolicyVersion(policy.policy_id, "v1", document, now))
            return policy

    def get(self, arn: str) -> ManagedPolicy:
        with self._ctx.store.transaction() as uow:
            return require_policy(uow, self._ctx.account_id, arn)

    def get_version(self, arn: str, version_id: str) -> PolicyVersion:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            return _require_version(uow, policy, version_id)

    def default_document(self, arn: str) -> str:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            return _require_version(uow, policy, policy.default_version_id).document

    def list_versions(self, arn: str) -> builtins.list[PolicyVersion]:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            return uow.policy_versions.list(policy.policy_id)

    def create_version(
        self, arn: str, document: str, *, set_as_default: bool = False
    ) -> PolicyVersion:
        """IAM `CreatePolicyVersion`: at most five versions per policy."""
        validate_managed(document)
        now = self._ctx.clock.now()
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            versions = uow.policy_versions.list(policy.policy_id)
            if len(versions) >= MAX_VERSIONS:
                raise LimitExceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions; before you"
                    " create a new version, you must delete an existing version"
                )
            number = 1 + max(int(v.version_id.removeprefix("v")) for v in versions)
            version = PolicyVersion(policy.policy_id, f"v{number}", document, now)
            uow.policy_versions.add(version)
            default = version.version_id if set_as_default else policy.default_version_id
            uow.policies.update(replace(policy, default_version_id=default, updated_at=now))
            return version

    def set_default_version(self, arn: str, version_id: str) -> None:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            _require_version(uow, policy, version_id)
            now = self._ctx.clock.now()
            uow.policies.update(replace(policy, default_version_id=version_id, updated_at=now))

    def delete_version(self, arn: str, version_id: str) -> None:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            _require_version(uow, policy, version_id)
            if version_id == policy.default_version_id:
                raise DeleteConflict("cannot delete the default version of a policy")
            uow.policy_versions.remove(policy.policy_id, version_id)

    def delete(self, arn: str) -> None:
        """IAM `DeletePolicy`: detached, not a boundary, only the default version left."""
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            if uow.attachments.principals_of(policy.policy_id):
                raise DeleteConflict("cannot delete a policy attached to entities")
            if _used_as_boundary(uow, arn):
                raise DeleteConflict("cannot delete a policy used as a permissions boundary")
            if len(uow.policy_versions.list(policy.policy_id)) > 1:
                raise DeleteConflict(
                    "this policy has more than one version; before you delete a policy,"
                    " you must delete the policy's non-default versions"
                )
            uow.policy_versions.remove(policy.policy_id, policy.default_version_id)
            uow.policies.remove(policy.policy_id)

    def list(
        self, *, scope: Scope = "All", only_attached: bool = False, path_prefix: str = "/"
    ) -> builtins.list[ManagedPolicy]:
        """IAM `ListPolicies`; only customer managed (`Local`) policies exist here."""
        validation.path_prefix(path_prefix)
        if scope == "AWS":
            return []
        with self._ctx.store.transaction() as uow:
            policies = uow.policies.list(path_prefix)
            if only_attached:
                policies = [p for p in policies if uow.attachments.principals_of(p.policy_id)]
            return policies

    def list_entities(self, arn: str) -> PolicyEntities:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            principal_ids = uow.attachments.principals_of(policy.policy_id)
            return PolicyEntities(
                users=_found(uow.users.get(pid) for pid in principal_ids),
                groups=_found(uow.groups.get(pid) for pid in principal_ids),
                roles=_found(uow.roles.get(pid) for pid in principal_ids),
            )

    def tag(self, arn: str, tags: Sequence[Tag]) -> None:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            uow.policies.update(replace(policy, tags=validation.merge_tags(policy.tags, tags)))

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        with self._ctx.store.transaction() as uow:
            policy = require_policy(uow, self._ctx.account_id, arn)
            uow.policies.update(replace(policy, tags=validation.remove_tags(policy.tags, keys)))

    def list_tags(self, arn: str) -> tuple[Tag, ...]:
        return self.get(arn).tags


def _require_version(uow: UnitOfWork, policy: ManagedPolicy, version_id: str) -> PolicyVersion:
    version = uow.policy_versions.get(policy.policy_id, version_id)
    if version is None:
        raise NotFound(f"Policy version `{version_id}` of `{policy.name}` does not exist")
    return version


def _used_as_boundary(uow: UnitOfWork, arn: str) -> bool:
    return any(u.permissions_boundary_arn == arn for u in uow.users.list()) or any(
        r.permissions_boundary_arn == arn for r in uow.roles.list()
    )


def _found(items: Iterable[T | None]) -> tuple[T, ...]:
    return tuple(item for item in items if item is not None)
