"""The policies that apply to a principal, for the decision engine.

A user's identity policies are its inline and attached policies and those of every
group it belongs to; a role's are its own. Each document comes with a label for the
decision trace: the policy ARN and version for a managed policy, and
`<principal arn>#inline/<policy name>` for an inline one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.directory import ids
from bridge.directory.context import Context
from bridge.directory.lookup import find_policy, policy_arn
from bridge.errors import NotFound
from bridge.storage.interfaces import UnitOfWork


@dataclass(frozen=True)
class EffectivePolicies:
    identity: tuple[tuple[str, str], ...]  # (label, document)
    boundary: str | None  # the boundary's default version document


class Effective:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def for_user(self, user_id: str) -> EffectivePolicies:
        with self._ctx.store.transaction() as uow:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound(f"The user with id `{user_id}` cannot be found")
            account = self._ctx.account_id
            docs = self._own(uow, user_id, ids.entity_arn(account, "user", user.path, user.name))
            for group_id in uow.memberships.groups_of(user_id):
                group = uow.groups.get(group_id)
                if group is not None:
                    arn = ids.entity_arn(account, "group", group.path, group.name)
                    docs.extend(self._own(uow, group_id, arn))
            return EffectivePolicies(
                tuple(docs), self._boundary(uow, user.permissions_boundary_arn)
            )

    def for_role(self, role_id: str) -> EffectivePolicies:
        with self._ctx.store.transaction() as uow:
            role = uow.roles.get(role_id)
            if role is None:
                raise NotFound(f"The role with id `{role_id}` cannot be found")
            arn = ids.entity_arn(self._ctx.account_id, "role", role.path, role.name)
            docs = self._own(uow, role_id, arn)
            return EffectivePolicies(
                tuple(docs), self._boundary(uow, role.permissions_boundary_arn)
            )

    def _own(self, uow: UnitOfWork, principal_id: str, principal_arn: str) -> list[tuple[str, str]]:
        docs = [
            (f"{principal_arn}#inline/{p.name}", p.document)
            for p in uow.inline_policies.list(principal_id)
        ]
        for policy_id in uow.attachments.policies_of(principal_id):
            policy = uow.policies.get(policy_id)
            if policy is None:
                continue
            version = uow.policy_versions.get(policy_id, policy.default_version_id)
            if version is not None:
                label = f"{policy_arn(self._ctx.account_id, policy)}:{version.version_id}"
                docs.append((label, version.document))
        return docs

    def _boundary(self, uow: UnitOfWork, arn: str | None) -> str | None:
        if arn is None:
            return None
        policy = find_policy(uow, self._ctx.account_id, arn)
        if policy is None:
            return None
        version = uow.policy_versions.get(policy.policy_id, policy.default_version_id)
        return version.document if version is not None else None
