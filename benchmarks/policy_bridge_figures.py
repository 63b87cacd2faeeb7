"""Figures 1 and 4: bridge's throughput and latency, and how it scales with statements.

bridge's `PolicySet` memoises, per (action, resource), which statements can
apply (and the decision itself when none of them has a condition). So each
figure is measured on requests the policy set has not seen: fresh policy sets,
warmed up on *other* requests of the same roles (which compiles the per-action
plans and warms the interpreter), then one pass over the measured requests.
Figure 1 also reports the same requests a second time (memo warm).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import policy_bridge as bridge
import policy_timing as timing
from policy_report import Report, Settings, microseconds, spread
from policy_workload import BenchRequest, Role, Workload, more_requests, scaling_role

from bridge.policy import PolicySet

SCALING_SIZES = (10, 100, 1_000, 10_000)
RATE_TARGET = 150_000
P99_TARGET_US = 20


@dataclass(frozen=True)
class BridgeRun:
    rate: float
    again: float
    effects: list[str]


class Fresh:
    """Builds fresh policy sets for the workload's roles, warmed up on other requests."""

    def __init__(self, workload: Workload, warmup: Sequence[BenchRequest]) -> None:
        self.workload = workload
        self.warmup = warmup
        self.warm_built = bridge.bridge_requests(warmup)
        self.built = bridge.bridge_requests(workload.requests)

    def calls(self) -> list[bridge.BridgeCall]:
        sets = bridge.bridge_sets(self.workload.roles)
        bridge.bridge_loop(bridge.bridge_calls(sets, self.warmup, self.warm_built))()
        return bridge.bridge_calls(sets, self.workload.requests, self.built)


def unseen_share(requests: Sequence[BenchRequest], warmup: Sequence[BenchRequest]) -> float:
    """The share of requests whose (role, action, resource) neither the warm-up nor an
    earlier request named."""
    seen = {(r.role, r.action.lower(), r.resource) for r in warmup}
    unseen = 0
    for r in requests:
        key = (r.role, r.action.lower(), r.resource)
        unseen += key not in seen
        seen.add(key)
    return unseen / len(requests)


def figure_bridge(workload: Workload, settings: Settings, report: Report) -> BridgeRun:
    print("\n[1] bridge PolicySet.evaluate")
    warmup = more_requests(settings.seed + 1, workload.roles, settings.warmup)
    fresh = Fresh(workload, warmup)
    share = unseen_share(workload.requests, warmup)
    print(f"  {share:.1%} of the requests are the first of their (role, action, resource)")
    first = max(timing.rate(bridge.bridge_loop(fresh.calls())) for _ in range(settings.repeats))
    calls = fresh.calls()
    first_latency = timing.latency_of(timing.timed_calls(bridge.bridge_call, calls))
    again = timing.rate(bridge.bridge_loop(calls), settings.repeats)
    again_latency = timing.latency_of(timing.timed_calls(bridge.bridge_call, calls))
    effects = bridge.bridge_effects(calls)
    print(f"  decisions: {spread(effects)}")
    print(f"  a perf_counter_ns pair costs about {timing.timer_overhead_ns() / 1000:.2f} µs")
    add_rate(report, "bridge decisions/s, unseen requests", first)
    add_latency(report, "bridge latency p50 / p99 / p99.9, unseen requests", first_latency)
    add_rate(report, "bridge decisions/s, same requests again", again)
    add_latency(report, "bridge latency p50 / p99 / p99.9, same requests again", again_latency)
    return BridgeRun(first, again, effects)


def add_rate(report: Report, figure: str, rate: float) -> None:
    report.add(figure, f"{rate:,.0f}/s", f"≥ {RATE_TARGET:,}/s", rate >= RATE_TARGET)


def add_latency(report: Report, figure: str, latency: timing.Latency) -> None:
    text = microseconds(latency.p50, latency.p99, latency.p999)
    report.add(figure, text, f"p99 < {P99_TARGET_US} µs", latency.p99 < P99_TARGET_US)


def figure_scaling(workload: Workload, settings: Settings, report: Report) -> None:
    sample = bridge.bridge_requests(retarget(workload.requests[: settings.scale_sample]))
    warmup = retarget(more_requests(settings.seed + 2, workload.roles, 2_000))
    rounds = 2 * settings.repeats
    print(f"\n[4] scaling: one principal, best of {rounds} rounds of unseen requests per size")
    sets = [
        (size, scaling_set(scaling_role(settings.seed, size), warmup)) for size in SCALING_SIZES
    ]
    size = max(1, len(sample) // rounds)
    rates = dict.fromkeys(SCALING_SIZES, 0.0)
    for turn in range(rounds):
        chunk = sample[turn * size : (turn + 1) * size]
        for statements, policy_set in sets[turn % 4 :] + sets[: turn % 4]:
            rate = timing.rate(bridge.bridge_loop([(policy_set, r) for r in chunk]))
            rates[statements] = max(rates[statements], rate)
    for statements, value in rates.items():
        report.add(f"bridge with {statements:,} statements", f"{value:,.0f}/s")
    ratio = rates[SCALING_SIZES[0]] / rates[SCALING_SIZES[-1]]
    report.add("rate at 10 / rate at 10,000 statements", f"{ratio:.2f}x", "< 2x", ratio < 2)


def retarget(requests: Sequence[BenchRequest]) -> list[BenchRequest]:
    return [BenchRequest(0, r.action, r.resource, r.context) for r in requests]


def scaling_set(role: Role, warmup: Sequence[BenchRequest]) -> PolicySet:
    """The role's policy set, warmed up on requests the measured ones do not repeat."""
    started = time.perf_counter()
    policy_set = bridge.bridge_policy_set(role)
    built = time.perf_counter() - started
    bridge.bridge_loop(bridge.bridge_calls([policy_set], warmup, bridge.bridge_requests(warmup)))()
    print(f"  {len(role.statements):>6,} statements: policy set built in {built:.2f} s")
    return policy_set
