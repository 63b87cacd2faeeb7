"""Attach managed policies to users, groups and roles (IAM `Attach*Policy`, `Detach*Policy`)."""

from __future__ import annotations

from bridge.directory.context import Context
from bridge.directory.lookup import PrincipalKind, require_policy, require_principal
from bridge.errors import LimitExceeded, NotFound
from bridge.storage.interfaces import ManagedPolicy

MAX_ATTACHED_POLICIES = 10
_QUOTA_NAMES = {"user": "UserPolicies", "group": "GroupPolicies", "role": "RolePolicies"}


class Attachments:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def attach(self, kind: PrincipalKind, name: str, policy_arn: str) -> None:
        """Attach once; attaching again changes nothing, as in IAM."""
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            policy = require_policy(uow, self._ctx.account_id, policy_arn)
            attached = uow.attachments.policies_of(principal.entity_id)
            if policy.policy_id in attached:
                return
            if len(attached) >= MAX_ATTACHED_POLICIES:
                raise LimitExceeded(
                    f"Cannot exceed quota for {_QUOTA_NAMES[kind]}PerEntity: "
                    f"{MAX_ATTACHED_POLICIES}"
                )
            uow.attachments.attach(principal.entity_id, policy.policy_id)

    def detach(self, kind: PrincipalKind, name: str, policy_arn: str) -> None:
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            policy = require_policy(uow, self._ctx.account_id, policy_arn)
            if policy.policy_id not in uow.attachments.policies_of(principal.entity_id):
                raise NotFound(f"Policy `{policy_arn}` was not found attached to {kind} `{name}`")
            uow.attachments.detach(principal.entity_id, policy.policy_id)

    def list_attached(self, kind: PrincipalKind, name: str) -> list[ManagedPolicy]:
        """IAM `ListAttached*Policies`, in attachment order."""
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            found = (
                uow.policies.get(pid) for pid in uow.attachments.policies_of(principal.entity_id)
            )
            return [policy for policy in found if policy is not None]
