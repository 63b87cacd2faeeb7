"""Decide whether a caller may perform an action on a resource, with IAM's logic.

The root account may do everything. A user is judged by its identity policies (its
own and its groups', inline and attached) and its permissions boundary, through the
policy engine. Compiled policy sets are cached by the content of the policies, so an
unchanged principal costs one directory read and no parsing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bridge.authz.principal import Caller
from bridge.directory.effective import EffectivePolicies
from bridge.directory.service import Directory
from bridge.policy import Decision, PolicySet, Request, parse_policy

ROOT_ALLOWED = Decision(effect="allowed", matched=(), missing_context=(), unevaluable_denies=())


@dataclass(frozen=True)
class RequestFacts:
    """What the edge knows about the request beyond the caller."""

    now: datetime
    source_ip: str | None = None
    secure_transport: bool = False
    user_agent: str | None = None


class Authorizer:
    def __init__(self, directory: Directory, *, cache_size: int = 1024) -> None:
        self._directory = directory
        self._cache: OrderedDict[EffectivePolicies, PolicySet] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def decide(self, caller: Caller, action: str, resource: str, facts: RequestFacts) -> Decision:
        if caller.is_root:
            return ROOT_ALLOWED
        policies = self._directory.policies_for_user(caller.principal_id)
        request = Request(action, resource, request_context(caller, facts))
        return self._policy_set(policies).evaluate(request)

    def _policy_set(self, policies: EffectivePolicies) -> PolicySet:
        with self._lock:
            cached = self._cache.get(policies)
            if cached is not None:
                self._cache.move_to_end(policies)
                return cached
        compiled = compile_policies(policies)
        with self._lock:
            self._cache[policies] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return compiled


def compile_policies(policies: EffectivePolicies) -> PolicySet:
    """Stored documents load leniently (CONVENTIONS 6): they were validated when written."""
    identity = [
        parse_policy(doc, strict=False, policy_id=label) for label, doc in policies.identity
    ]
    boundary = None
    if policies.boundary is not None:
        boundary = [parse_policy(policies.boundary, strict=False, policy_id="permissions-boundary")]
    return PolicySet(identity, boundary=boundary)


def request_context(caller: Caller, facts: RequestFacts) -> Mapping[str, object]:
    """The global condition keys IAM sets for a request signed with long-term keys."""
    context: dict[str, object] = {
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": "Account" if caller.is_root else "User",
        "aws:userid": caller.principal_id,
        "aws:CurrentTime": facts.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(facts.now.timestamp()),
        "aws:SecureTransport": facts.secure_transport,
        "aws:RequestedRegion": caller.region,
        "aws:ViaAWSService": False,
    }
    if caller.name is not None:
        context["aws:username"] = caller.name
    if facts.source_ip:
        context["aws:SourceIp"] = facts.source_ip
    if facts.user_agent:
        context["aws:UserAgent"] = facts.user_agent
    for tag in caller.tags:
        context[f"aws:PrincipalTag/{tag.key}"] = tag.value
    return context
