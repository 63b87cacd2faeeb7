"""Timing helpers for the policy benchmark: one core, warm-up, throughput, latency percentiles."""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def pin_one_core() -> str:
    """Pin this process to CPU 0 when the platform allows it; say what happened."""
    setter = getattr(os, "sched_setaffinity", None)
    if setter is None:
        return "not pinned (os.sched_setaffinity is unavailable here)"
    try:
        setter(0, {0})
    except OSError as error:
        return f"not pinned ({error})"
    return "pinned to CPU 0"


@dataclass(frozen=True)
class Latency:
    """Per-call latency percentiles, in microseconds."""

    p50: float
    p99: float
    p999: float


def settle() -> None:
    """Collect, then freeze what exists (the workload itself) so the collector, which
    still runs during the measurement, does not rescan the benchmark's own data."""
    gc.collect()
    gc.freeze()


def percentile(sorted_ns: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanosecond samples, in microseconds."""
    rank = max(1, math.ceil(fraction * len(sorted_ns) - 1e-9))
    return sorted_ns[min(rank, len(sorted_ns)) - 1] / 1000


def latency_of(samples_ns: Sequence[int]) -> Latency:
    ordered = sorted(samples_ns)
    return Latency(percentile(ordered, 0.50), percentile(ordered, 0.99), percentile(ordered, 0.999))


def rate(loop: Callable[[], int], repeats: int = 1) -> float:
    """Calls per second of `loop` (which returns how many calls it made), best of `repeats`."""
    best = 0.0
    for _ in range(repeats):
        settle()
        start = time.perf_counter()
        count = loop()
        elapsed = time.perf_counter() - start
        gc.unfreeze()
        best = max(best, count / elapsed)
    return best


def timed_calls(call: Callable[[T], object], items: Sequence[T]) -> list[int]:
    """Each call timed on its own with `perf_counter_ns` (includes the timer's own cost)."""
    clock = time.perf_counter_ns
    samples = [0] * len(items)
    settle()
    for position, item in enumerate(items):
        start = clock()
        call(item)
        samples[position] = clock() - start
    gc.unfreeze()
    return samples


def timer_overhead_ns(rounds: int = 100_000) -> float:
    """The median cost of one `perf_counter_ns` pair, to read small latencies against."""
    clock = time.perf_counter_ns
    samples = [0] * rounds
    for position in range(rounds):
        start = clock()
        samples[position] = clock() - start
    samples.sort()
    return float(samples[rounds // 2])
