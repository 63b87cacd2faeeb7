"""Inline policies of users, groups and roles (IAM `Put*Policy`, `Get*Policy`, …)."""

from __future__ import annotations

from bridge.directory import validation
from bridge.directory.context import Context
from bridge.directory.documents import INLINE_AGGREGATE_SIZE, policy_size, validate_identity
from bridge.directory.lookup import PrincipalKind, require_principal
from bridge.errors import LimitExceeded, NotFound
from bridge.storage.interfaces import InlinePolicy


class InlinePolicies:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def put(self, kind: PrincipalKind, name: str, policy_name: str, document: str) -> None:
        """Create or replace; the principal's inline policies together stay within IAM's quota."""
        validation.policy_name(policy_name)
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            others = sum(
                policy_size(p.document)
                for p in uow.inline_policies.list(principal.entity_id)
                if p.name != policy_name
            )
            limit = INLINE_AGGREGATE_SIZE[kind]
            if others + policy_size(document) > limit:
                raise LimitExceeded(
                    f"Maximum policy size of {limit} bytes exceeded for {kind} `{principal.name}`"
                )
            validate_identity(document)
            uow.inline_policies.put(InlinePolicy(principal.entity_id, policy_name, document))

    def get(self, kind: PrincipalKind, name: str, policy_name: str) -> InlinePolicy:
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            policy = uow.inline_policies.get(principal.entity_id, policy_name)
            if policy is None:
                raise NotFound(f"The {kind} policy with name `{policy_name}` cannot be found")
            return policy

    def list(self, kind: PrincipalKind, name: str) -> list[str]:
        """The names of the principal's inline policies, ordered by name."""
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            return [p.name for p in uow.inline_policies.list(principal.entity_id)]

    def delete(self, kind: PrincipalKind, name: str, policy_name: str) -> None:
        with self._ctx.store.transaction() as uow:
            principal = require_principal(uow, kind, name)
            if uow.inline_policies.get(principal.entity_id, policy_name) is None:
                raise NotFound(f"The {kind} policy with name `{policy_name}` cannot be found")
            uow.inline_policies.remove(principal.entity_id, policy_name)
