"""Settings, the figure report and small helpers shared by the benchmark's figures."""

from __future__ import annotations

import collections
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata


@dataclass(frozen=True)
class Settings:
    requests: int
    seed: int
    warmup: int
    moto_sample: int
    cedar_sample: int
    scale_sample: int
    repeats: int
    quick: bool


@dataclass(frozen=True)
class Row:
    figure: str
    result: str
    target: str
    met: bool | None


def status(met: bool | None) -> str:
    return "n/a" if met is None else ("PASS" if met else "MISS")


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, figure: str, result: str, target: str = "-", met: bool | None = None) -> None:
        self.rows.append(Row(figure, result, target, met))
        print(f"  {figure}: {result}   [target {target}: {status(met)}]")

    def markdown(self, settings: Settings) -> str:
        lines = [
            "## Policy engine benchmark",
            "",
            f"Seed {settings.seed}, {settings.requests:,} requests, one core,"
            f" {platform.python_implementation()} {platform.python_version()},"
            f" moto {version_of('moto')}, cedarpy {version_of('cedarpy')}.",
            "",
            "| Figure | Result | Target | Status |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r.figure} | {r.result} | {r.target} | {status(r.met)} |" for r in self.rows]
        return "\n".join(lines)


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def spread(effects: Sequence[str]) -> str:
    counts = collections.Counter(effects)
    return ", ".join(f"{name} {counts[name] / len(effects):.1%}" for name in sorted(counts))


def agreement(left: Sequence[object], right: Sequence[object]) -> float:
    return sum(a == b for a, b in zip(left, right, strict=True)) / len(left)


def allow_or_deny(effects: Sequence[str]) -> list[bool]:
    return [effect == "allowed" for effect in effects]


def microseconds(p50: float, p99: float, p999: float) -> str:
    return f"{p50:.1f} / {p99:.1f} / {p999:.1f} µs"
