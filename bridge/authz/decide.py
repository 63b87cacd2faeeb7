"""Decide whether a caller may perform an action on a resource, with IAM's logic.

The root account may do everything (with its keys or a GetSessionToken session).
Otherwise the caller's restrictions come first (`Restrictions`: e.g. no IAM for
federated users), then the policy engine judges:

- a user, or a user's GetSessionToken session: the user's identity policies (its
  own and its groups', inline and attached) and permissions boundary;
- a role session: the role's identity policies and boundary, and the session
  policies from the token (the session may do only what both allow);
- a federated user (GetFederationToken): the calling user's policies and boundary,
  and the session policies, which are required: without one nothing is allowed
  (AWS: the intersection of the user's policies and the session policy).

A role or user deleted since the session was issued leaves nothing allowed.
Compiled policy sets are cached by the content of the policies, and the policies are
read through the directory cache (`bridge.directory.cache`), so an unchanged principal
costs no database read and no parsing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bridge.authz.principal import Caller
from bridge.credentials.tokens import SessionClaims
from bridge.directory.effective import EffectivePolicies
from bridge.directory.service import Directory
from bridge.errors import NotFound
from bridge.policy import Decision, PolicySet, Request, parse_policy

ROOT_ALLOWED = Decision(effect="allowed", matched=(), missing_context=(), unevaluable_denies=())
NOTHING_ALLOWED = Decision(
    effect="implicitDeny", matched=(), missing_context=(), unevaluable_denies=()
)
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_PRINCIPAL_TYPES = {
    "root": "Account",
    "user": "User",
    "user-session": "User",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
}


@dataclass(frozen=True)
class RequestFacts:
    """What the edge knows about the request beyond the caller."""

    now: datetime
    source_ip: str | None = None
    secure_transport: bool = False
    user_agent: str | None = None


@dataclass(frozen=True)
class _Policies:
    """The cache key: everything a compiled `PolicySet` is built from."""

    principal: EffectivePolicies
    session: tuple[tuple[str, str], ...] = ()


class Authorizer:
    def __init__(self, directory: Directory, *, cache_size: int = 1024) -> None:
        self._directory = directory
        self._cache: OrderedDict[_Policies, PolicySet] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def decide(
        self,
        caller: Caller,
        action: str,
        resource: str,
        facts: RequestFacts,
        context: Mapping[str, object] | None = None,
    ) -> Decision:
        """`context`: more condition keys (from the service asking, for `/v1/authorize`);
        the keys the bridge sets from the caller and `facts` win over them."""
        service, _, name = action.partition(":")
        if caller.restrictions.refusal(service.lower(), name) is not None:
            return NOTHING_ALLOWED
        if caller.is_root:
            return ROOT_ALLOWED
        policies = self._policies(caller)
        if policies is None:
            return NOTHING_ALLOWED
        request = Request(action, resource, {**(context or {}), **request_context(caller, facts)})
        return self._policy_set(policies).evaluate(request)

    def _policies(self, caller: Caller) -> _Policies | None:
        session = caller.session
        try:
            if session is None:
                return _Policies(self._directory.policies_for_user(caller.principal_id))
            if session.kind == "assumed-role":
                role = self._directory.policies_for_role(session.subject_id)
                return _Policies(role, session.session_policies)
            user = self._directory.policies_for_user(session.subject_id)
        except NotFound:
            return None
        if session.kind == "federated-user":
            return _Policies(user, session.session_policies) if session.session_policies else None
        return _Policies(user)

    def _policy_set(self, policies: _Policies) -> PolicySet:
        with self._lock:
            cached = self._cache.get(policies)
            if cached is not None:
                self._cache.move_to_end(policies)
                return cached
        compiled = compile_policies(policies.principal, policies.session)
        with self._lock:
            self._cache[policies] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return compiled


def compile_policies(
    policies: EffectivePolicies, session: tuple[tuple[str, str], ...] = ()
) -> PolicySet:
    """Stored documents load leniently (CONVENTIONS 6): they were validated when written,
    as session policies were when the session was issued."""
    identity = [
        parse_policy(doc, strict=False, policy_id=label) for label, doc in policies.identity
    ]
    boundary = None
    if policies.boundary is not None:
        boundary = [parse_policy(policies.boundary, strict=False, policy_id="permissions-boundary")]
    scoped = [parse_policy(doc, strict=False, policy_id=label) for label, doc in session]
    return PolicySet(identity, boundary=boundary, session=scoped or None)


def request_context(caller: Caller, facts: RequestFacts) -> Mapping[str, object]:
    """The global condition keys IAM sets for the request (IAM User Guide, "AWS global
    condition context keys"), including the session keys for temporary credentials."""
    context: dict[str, object] = {
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": _PRINCIPAL_TYPES[caller.kind],
        "aws:userid": caller.principal_id,
        "aws:CurrentTime": facts.now.strftime(_ISO),
        "aws:EpochTime": int(facts.now.timestamp()),
        "aws:SecureTransport": facts.secure_transport,
        "aws:RequestedRegion": caller.region,
        "aws:ViaAWSService": False,
    }
    if caller.name is not None and caller.kind in ("user", "user-session"):
        context["aws:username"] = caller.name
    if facts.source_ip:
        context["aws:SourceIp"] = facts.source_ip
    if facts.user_agent:
        context["aws:UserAgent"] = facts.user_agent
    for tag in caller.tags:
        context[f"aws:PrincipalTag/{tag.key}"] = tag.value
    if caller.session is not None:
        context.update(session_context(caller.session, facts.now))
    return context


def session_context(claims: SessionClaims, now: datetime) -> dict[str, object]:
    """`aws:TokenIssueTime`, MFA keys, `aws:SourceIdentity`; for a role session the
    principal ARN is the role's ARN, not the session's."""
    context: dict[str, object] = {
        "aws:TokenIssueTime": claims.issued_at.strftime(_ISO),
        "aws:MultiFactorAuthPresent": claims.mfa_present,
    }
    if claims.kind == "assumed-role":
        context["aws:PrincipalArn"] = claims.subject_arn
    if claims.mfa_present:
        context["aws:MultiFactorAuthAge"] = max(0, int((now - claims.issued_at).total_seconds()))
    if claims.source_identity is not None:
        context["aws:SourceIdentity"] = claims.source_identity
    return context
