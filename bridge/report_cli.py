"""`bridge report`: print IAM best-practice findings; exit 1 when there are any."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from bridge.report import Finding, Thresholds, run_checks
from bridge.settings import load_settings


@click.command("report")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--key-age-days", type=click.IntRange(min=0), default=90, show_default=True)
@click.option("--unused-days", type=click.IntRange(min=0), default=90, show_default=True)
def report(home: Path | None, fmt: str, key_age_days: int, unused_days: int) -> None:
    """Check the directory against IAM security best practices."""
    from bridge.services import build_services

    services = build_services(load_settings(home))
    try:
        thresholds = Thresholds(key_age_days=key_age_days, unused_days=unused_days)
        findings = run_checks(services.directory, services.clock.now(), thresholds)
    finally:
        services.close()
    click.echo(render_json(findings) if fmt == "json" else render_text(findings))
    if findings:
        raise SystemExit(1)


def render_text(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    lines = [f"{f.severity:<6}  {f.check:<18}  {f.subject}\n        {f.message}" for f in findings]
    lines.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    return "\n".join(lines)


def render_json(findings: list[Finding]) -> str:
    return json.dumps({"findings": [asdict(f) for f in findings]}, indent=2)
