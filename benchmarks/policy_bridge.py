"""bridge's policy engine behind the benchmark's shape: policy sets built once per role."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policy_workload import BenchRequest, Role

from bridge.policy import PolicySet, Request, parse_policy

BridgeCall = tuple[PolicySet, Request]


def bridge_policy_set(role: Role) -> PolicySet:
    """The role's identity policies (50 statements each), parsed strictly, built once."""
    docs = role.documents()
    return PolicySet([parse_policy(d, policy_id=f"{role.name}-{i}") for i, d in enumerate(docs)])


def bridge_sets(roles: Sequence[Role]) -> list[PolicySet]:
    return [bridge_policy_set(role) for role in roles]


def bridge_requests(requests: Sequence[BenchRequest]) -> list[Request]:
    """bridge `Request` objects, built untimed (they lowercase the action and keys once)."""
    return [Request(r.action, r.resource, dict(r.context)) for r in requests]


def bridge_calls(
    sets: Sequence[PolicySet], requests: Sequence[BenchRequest], built: Sequence[Request]
) -> list[BridgeCall]:
    """Each request paired with its role's policy set."""
    return [(sets[r.role], request) for r, request in zip(requests, built, strict=True)]


def bridge_loop(calls: Sequence[BridgeCall]) -> Callable[[], int]:
    """An untimed loop over every call, for throughput."""

    def loop() -> int:
        for policy_set, request in calls:
            policy_set.evaluate(request)
        return len(calls)

    return loop


def bridge_call(pair: BridgeCall) -> object:
    return pair[0].evaluate(pair[1])


def bridge_effects(calls: Sequence[BridgeCall]) -> list[str]:
    return [policy_set.evaluate(request).effect for policy_set, request in calls]
