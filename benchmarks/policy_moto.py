"""moto's IAM evaluator behind the benchmark's shape: built once per role, then decide.

Like the bridge adapter (`policy_bridge.py`), it takes the workload's roles and
requests and returns, per request, one of bridge's effects (`allowed`,
`explicitDeny`, `implicitDeny`) so the answers can be compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from moto.iam.access_control import IAMPolicy, PermissionResult
from policy_workload import BenchRequest, Role

MOTO_EFFECTS = {
    PermissionResult.PERMITTED: "allowed",
    PermissionResult.DENIED: "explicitDeny",
    PermissionResult.NEUTRAL: "implicitDeny",
}


class MotoRole:
    """A role's policies as moto `IAMPolicy` objects (JSON loaded once).

    `decide` combines them the way moto's `IAMRequestBase.check_action_permitted`
    does: the first `DENIED` wins, else any `PERMITTED` allows.
    """

    def __init__(self, role: Role) -> None:
        self.policies = [IAMPolicy(json.dumps(doc)) for doc in role.documents()]

    def decide(self, action: str, resource: str) -> PermissionResult:
        permitted = False
        for policy in self.policies:
            result = policy.is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


MotoCall = tuple[MotoRole, str, str]


def moto_calls(roles: Sequence[Role], requests: Sequence[BenchRequest]) -> list[MotoCall]:
    """moto's evaluator per role, with each request's action and ARN."""
    evaluators = [MotoRole(role) for role in roles]
    return [(evaluators[r.role], r.action, r.resource) for r in requests]


def moto_loop(calls: Sequence[MotoCall]) -> Callable[[], int]:
    def loop() -> int:
        for role, action, resource in calls:
            role.decide(action, resource)
        return len(calls)

    return loop


def moto_call(call: MotoCall) -> object:
    return call[0].decide(call[1], call[2])


def moto_effects(calls: Sequence[MotoCall]) -> list[str]:
    return [MOTO_EFFECTS[role.decide(action, resource)] for role, action, resource in calls]
