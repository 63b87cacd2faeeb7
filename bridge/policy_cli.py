"""`bridge policy validate` and `bridge policy simulate`: the policy engine on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge.policy import Decision, Finding, Policy, PolicyError, Request, evaluate, parse_policy
from bridge.policy import validate as validate_document

KINDS = ["identity", "trust", "resource"]


@click.group()
def policy() -> None:
    """Validate policy documents and simulate decisions."""


@policy.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default="identity", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def validate_command(files: tuple[Path, ...], kind: str, fmt: str) -> None:
    """Check policy files; exit 1 when any has an error finding."""
    results = {str(path): _findings(path, kind) for path in files}
    if fmt == "json":
        click.echo(
            json.dumps({name: [_finding_json(f) for f in fs] for name, fs in results.items()})
        )
    else:
        for name, findings in results.items():
            _print_findings(name, findings)
    if any(f.severity == "error" for fs in results.values() for f in fs):
        raise SystemExit(1)


@policy.command("simulate")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--action", required=True)
@click.option("--resource", required=True)
@click.option("--context", "context", multiple=True, help="key=value (repeat a key for a list)")
@click.option("--boundary", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--session", "session", multiple=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def simulate_command(
    policies: tuple[Path, ...],
    action: str,
    resource: str,
    context: tuple[str, ...],
    boundary: Path | None,
    session: tuple[Path, ...],
    fmt: str,
) -> None:
    """Evaluate one request against policy files and print the decision and why."""
    request = Request(action, resource, parse_context(context))
    decision = evaluate(
        request,
        [_load(path) for path in policies],
        boundary=[_load(boundary)] if boundary else None,
        session=[_load(path) for path in session] or None,
    )
    click.echo(json.dumps(_decision_json(decision)) if fmt == "json" else _decision_text(decision))


def parse_context(pairs: tuple[str, ...]) -> dict[str, object]:
    """`key=value` pairs; a repeated key becomes a list, as a multi-valued context key."""
    context: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got `{pair}`", param_hint="--context")
        previous = context.get(key)
        if previous is None:
            context[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            context[key] = [previous, value]
    return context


def _load(path: Path) -> Policy:
    text = _read(path)
    try:
        return parse_policy(text, strict=False, policy_id=path.name)
    except PolicyError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read the file: {exc}") from None


def _findings(path: Path, kind: str) -> list[Finding]:
    return validate_document(_read(path), kind=kind)


def _print_findings(name: str, findings: list[Finding]) -> None:
    if not findings:
        click.echo(f"{name}: ok")
    for finding in findings:
        where = f" at {finding.path}" if finding.path else ""
        click.echo(f"{name}: {finding.severity} {finding.code}{where}: {finding.message}")


def _finding_json(finding: Finding) -> dict[str, str]:
    return {
        "severity": finding.severity,
        "code": finding.code,
        "path": finding.path,
        "message": finding.message,
    }


def _decision_json(decision: Decision) -> dict[str, object]:
    return {
        "decision": decision.effect,
        "matched": [
            {
                "policy": m.policy_id,
                "kind": m.policy_kind,
                "index": m.index,
                "sid": m.sid,
                "effect": m.effect,
            }
            for m in decision.matched
        ],
        "missing_context": list(decision.missing_context),
        "unevaluable_denies": [
            {"policy": m.policy_id, "index": m.index, "sid": m.sid}
            for m in decision.unevaluable_denies
        ],
    }


def _decision_text(decision: Decision) -> str:
    lines = [f"decision: {decision.effect}"]
    for m in decision.matched:
        label = m.sid if m.sid else f"statement {m.index}"
        lines.append(f"  {m.effect} by {m.policy_kind} policy {m.policy_id}, {label}")
    if decision.missing_context:
        lines.append("  missing context keys: " + ", ".join(decision.missing_context))
    for m in decision.unevaluable_denies:
        lines.append(f"  deny in {m.policy_id} statement {m.index} could not be evaluated")
    return "\n".join(lines)
