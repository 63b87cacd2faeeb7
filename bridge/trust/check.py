"""Mapping proposes, trust disposes: a role is granted only when its trust policy allows.

The trust policy is evaluated by the policy engine as a resource policy whose
principal is the caller (the federated provider for AssumeRoleWith*, the calling
principal for AssumeRole). Session tags need `sts:TagSession` and a source identity
needs `sts:SetSourceIdentity` in the same trust policy, as STS requires.

A trust policy is parsed and compiled once per (role ARN, document) and kept in a
bounded memo (`trust_policy_set`), as the engine's own `evaluate()` does: a memo of a
pure function of the document, so an edited trust policy is a new entry and an
answer never depends on what is cached.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.errors import AccessDenied
from bridge.policy import Decision, PolicySet, Principal, Request, parse_policy
from bridge.storage.interfaces import Role


@dataclass(frozen=True)
class TrustRequest:
    action: str  # sts:AssumeRole | sts:AssumeRoleWithSAML | sts:AssumeRoleWithWebIdentity
    principal: Principal
    context: Mapping[str, object]
    wants_tags: bool = False
    wants_source_identity: bool = False


@dataclass(frozen=True)
class TrustDecision:
    role_arn: str
    decisions: Mapping[str, Decision]  # action → decision, for the trace and audit

    @property
    def allowed(self) -> bool:
        return all(decision.allowed for decision in self.decisions.values())

    def refused_actions(self) -> list[str]:
        return [action for action, d in self.decisions.items() if not d.allowed]


TRUST_SETS = 128  # compiled trust policies kept (one per role in use)


@functools.lru_cache(maxsize=TRUST_SETS)
def trust_policy_set(role_arn: str, document: str) -> PolicySet:
    """The trust policy `document` of `role_arn`, parsed leniently and compiled."""
    trust = parse_policy(document, strict=False, kind="trust", policy_id=f"{role_arn}#trust")
    return PolicySet([], resource=trust)


def evaluate_trust(role: Role, role_arn: str, request: TrustRequest) -> TrustDecision:
    """Every action the request needs (the assume action, plus tag/source identity)."""
    policy_set = trust_policy_set(role_arn, role.trust_policy)
    actions = [request.action]
    if request.wants_tags:
        actions.append("sts:TagSession")
    if request.wants_source_identity:
        actions.append("sts:SetSourceIdentity")
    decisions = {
        action: policy_set.evaluate(Request(action, role_arn, request.context), request.principal)
        for action in actions
    }
    return TrustDecision(role_arn, decisions)


def require_trust(role: Role, role_arn: str, request: TrustRequest) -> TrustDecision:
    """Raise `AccessDenied` (AWS's wording) unless the trust policy allows every action."""
    decision = evaluate_trust(role, role_arn, request)
    if not decision.allowed:
        refused = decision.refused_actions()[0]
        raise AccessDenied(f"Not authorized to perform {refused} on {role_arn}")
    return decision
