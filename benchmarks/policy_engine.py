"""Policy engine benchmark: bridge against moto and Cedar, and bridge's scaling.

Run from the repository root:

    .venv/bin/python benchmarks/policy_engine.py [--requests N] [--seed S] [--quick]

It prints each figure with PASS/MISS next to its target and ends with a Markdown
summary table; it always exits 0 (the targets are goals, not assertions). See
`benchmarks/README.md` for what each figure measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

import policy_timing as timing
from policy_report import Report, Settings, agreement, allow_or_deny, spread, version_of
from policy_workload import Workload, generate

if TYPE_CHECKING:
    from policy_bridge_figures import BridgeRun

RATIO_TARGET = 25


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description="policy engine benchmark")
    parser.add_argument("--requests", type=int, default=None, help="requests (default 100000)")
    parser.add_argument("--seed", type=int, default=2026, help="workload seed (default 2026)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 20 seconds")
    parser.add_argument("--moto-sample", type=int, default=None, help="requests run on moto")
    parser.add_argument("--cedar-sample", type=int, default=None, help="requests run on cedar")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    requests = args.requests or (20_000 if quick else 100_000)
    return Settings(
        requests=requests,
        seed=args.seed,
        warmup=5_000 if quick else 20_000,
        moto_sample=min(requests, args.moto_sample or (1_000 if quick else requests)),
        cedar_sample=min(requests, args.cedar_sample or (3_000 if quick else requests)),
        scale_sample=min(requests, 3_000 if quick else 18_000),
        repeats=1 if quick else 3,
        quick=quick,
    )


def describe(workload: Workload) -> None:
    statements = [s for role in workload.roles for s in role.statements]
    denies = sum(s.effect == "Deny" for s in statements) / len(statements)
    conditioned = sum(bool(s.conditions) for s in statements) / len(statements)
    print(
        f"workload: {len(workload.roles)} roles, {len(statements)} statements "
        f"({denies:.0%} Deny, {conditioned:.0%} with conditions), "
        f"{len(workload.requests):,} requests, {len(workload.actions)} actions"
    )


def add_ratio(report: Report, name: str, run: BridgeRun, other: float) -> None:
    """The ratio on unseen requests (scored), and on the same requests again."""
    ratio = run.rate / other
    text = f"{ratio:,.1f}x ({run.again / other:,.0f}x on the same requests again)"
    report.add(name, text, f"≥ {RATIO_TARGET}x", ratio >= RATIO_TARGET)


def figure_moto(
    workload: Workload, settings: Settings, bridge_run: BridgeRun | None, report: Report
) -> None:
    import policy_moto as moto

    sample = workload.requests[: settings.moto_sample]
    print(
        f"\n[2] moto {version_of('moto')} IAMPolicy.is_action_permitted, {len(sample):,} requests"
    )
    print("  moto ignores the conditions here (it checks only StringEquals, and only when")
    print("  given values), reads `?` as a regex quantifier and does not escape `.`")
    calls = moto.moto_calls(workload.roles, sample)
    moto.moto_loop(calls[:200])()
    rate = timing.rate(moto.moto_loop(calls))
    latency = timing.latency_of(timing.timed_calls(moto.moto_call, calls))
    report.add("moto decisions/s (conditions ignored)", f"{rate:,.0f}/s, p50 {latency.p50:.0f} µs")
    if bridge_run is None:
        return
    same = agreement(moto.moto_effects(calls), bridge_run.effects[: len(sample)])
    print(f"  moto agrees with bridge on {same:.1%} (moto without conditions)")
    add_ratio(report, "bridge / moto", bridge_run, rate)


def figure_cedar(
    workload: Workload, settings: Settings, bridge_run: BridgeRun | None, report: Report
) -> None:
    import policy_cedar as cedar

    sample = workload.requests[: settings.cedar_sample]
    print(f"\n[3] cedarpy {version_of('cedarpy')} is_authorized_batch, {len(sample):,} requests")
    resources = (*workload.resources, *(r.resource for r in sample))
    bench = cedar.CedarBench(workload.roles, workload.actions, resources)
    groups = bench.group(sample)
    bench.run(bench.group(sample[:500]))
    started = time.perf_counter()
    results = bench.run(groups)
    rate = len(sample) / (time.perf_counter() - started)
    effects = [cedar.cedar_effect(r) for r in results]
    print(f"  decisions: {spread(effects)}; evaluation errors: {cedar.cedar_errors(results)}")
    report.add("cedar decisions/s (batched per role)", f"{rate:,.0f}/s")
    if bridge_run is None:
        return
    mine = bridge_run.effects[: len(sample)]
    binary = agreement(allow_or_deny(effects), allow_or_deny(mine))
    text = f"{binary:.2%} allow/deny, {agreement(effects, mine):.2%} three-way"
    report.add("cedar agrees with bridge", text, "100%", binary == 1)
    add_ratio(report, "bridge / cedar", bridge_run, rate)


def run_bridge(workload: Workload, settings: Settings, report: Report) -> BridgeRun | None:
    try:
        import policy_bridge_figures as figures
    except ImportError as error:
        print(f"\n[1] bridge's policy engine is unavailable ({error}): figures 1 and 4 skipped")
        return None
    return figures.figure_bridge(workload, settings, report)


def run_scaling(workload: Workload, settings: Settings, report: Report) -> None:
    import policy_bridge_figures as figures

    figures.figure_scaling(workload, settings, report)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    print(f"policy engine benchmark, {timing.pin_one_core()}: {json.dumps(asdict(settings))}")
    started = time.perf_counter()
    workload = generate(settings.seed, settings.requests)
    print(f"generated in {time.perf_counter() - started:.1f} s")
    describe(workload)
    report = Report()
    bridge_run = run_bridge(workload, settings, report)
    figure_moto(workload, settings, bridge_run, report)
    figure_cedar(workload, settings, bridge_run, report)
    if bridge_run is not None:
        run_scaling(workload, settings, report)
    print("\n" + report.markdown(settings))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
