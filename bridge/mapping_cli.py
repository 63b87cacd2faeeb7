"""`bridge mapping test` and `bridge mapping diff`: role mapping rules run on saved claims.

`test` maps one claims file through the rules (of the home, or `--config FILE`), then
checks each candidate role's trust policy in the home's directory, and prints the
trace. Exit status: 0 when at least one role is granted, 1 when none is, 2 on bad
input (unreadable files, faults in the rules, an unknown provider).

`diff` maps every `*.json` in a folder through two rule files and prints whose roles
would change (mapping only, no trust check). Exit status 0, or 2 on bad input.

A claims file is a JSON object of claim → string or list; `sub`, `iss` and `groups`
(or the SAML group attribute names) are read as the verifiers read them, and a
top-level `provider` key names the provider for `diff`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bridge.cli import home_option
from bridge.errors import ConfigError, InvalidInput
from bridge.mapping.claims import Claims, claims_from_json, provider_of
from bridge.mapping.engine import Candidate, map_identity
from bridge.mapping.holder import read_rules_file
from bridge.mapping.rules import MappingRules, load_rules
from bridge.mapping.trace import Trace
from bridge.settings import Settings, load_settings

EXIT_NONE_GRANTED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    exit_code = EXIT_BAD_INPUT


@click.group()
def mapping() -> None:
    """Run the role mapping rules offline on saved claims."""


@mapping.command("test")
@home_option
@click.option("--provider", "provider", required=True, help="The provider signed in through.")
@click.option("--claims", "claims_file", required=True, type=click.Path(path_type=Path))
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    default=None,
    help="Rules from this bridge.yaml (default: the home's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
def test_command(
    home: Path | None, provider: str, claims_file: Path, config: Path | None, as_json: bool
) -> None:
    """Map saved claims, check each role's trust policy, print the trace (exit 0: a role
    was granted, 1: none, 2: bad input)."""
    from bridge.mapping_offline import run_offline
    from bridge.services import build_services

    claims = _claims(_read_json(claims_file), claims_file)
    settings = _settings(home)
    rules = _rules_file(config) if config is not None else load_rules(settings.mapping)
    services = build_services(settings)
    try:
        result = run_offline(services, rules, provider, claims)
    except InvalidInput as exc:
        raise BadInput(exc.message) from None
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps(_test_json(result.trace, result.mapping.candidates), indent=2))
    else:
        header = f"provider {provider} ({result.provider.protocol}, {result.provider.arn})"
        click.echo("\n".join([header, *trace_lines(result.trace, result.mapping.candidates)]))
    if not result.granted:
        raise SystemExit(EXIT_NONE_GRANTED)


@mapping.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--claims", "claims_dir", required=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--provider", "provider", default=None, help="The provider for files without a `provider` key."
)
@click.option("--json", "as_json", is_flag=True)
def diff_command(
    old: Path, new: Path, claims_dir: Path, provider: str | None, as_json: bool
) -> None:
    """Show whose roles would change from the OLD rules to the NEW ones."""
    old_rules, new_rules = _rules_file(old), _rules_file(new)
    files = sorted(claims_dir.glob("*.json")) if claims_dir.is_dir() else []
    if not files:
        raise BadInput(f"no `*.json` claims files in `{claims_dir}`")
    rows = [_diff_row(path, provider, old_rules, new_rules) for path in files]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(_diff_line(row))
    changed = sum(1 for row in rows if row["added"] or row["removed"])
    click.echo(f"{changed} of {len(rows)} would change")


def trace_lines(trace: Trace, candidates: tuple[Candidate, ...]) -> list[str]:
    """The trace as text for a person at a terminal."""
    identity = trace.identity
    groups = ", ".join(identity.groups) or "(none)"
    if identity.groups_filtered_out:
        groups += f" ({identity.groups_filtered_out} removed by the group filter)"
    if identity.groups_overage:
        groups += " (group overage: the token left its groups out)"
    lines = [f"subject {identity.subject or '(none)'}, issuer {identity.issuer or '(none)'}"]
    lines += [f"groups: {groups}", "rules:"]
    for entry in trace.rules:
        mark = "matched" if entry.matched else "no"
        roles = f" -> {', '.join(entry.roles)}" if entry.roles else ""
        lines.append(f"  [{mark}] {entry.rule_id}: {entry.why}{roles}")
    lines.append("candidates:" if candidates else "candidates: (none)")
    lines += [f"  {_candidate_text(candidate)}" for candidate in candidates]
    if trace.trust:
        lines.append("trust:")
    for item in trace.trust:
        lines.append(
            f"  [{'accepted' if item.accepted else 'refused'}] {item.role_arn}: {item.why}"
        )
    lines.append("granted: " + (", ".join(trace.accepted) or "(none)"))
    lines.append(f"shown to the person: {trace.user_summary()}")
    return lines


def _candidate_text(candidate: Candidate) -> str:
    parts = [f"rule {candidate.rule_id}", f"session {candidate.session_name}"]
    if candidate.tags:
        parts.append("tags " + ", ".join(f"{k}={v}" for k, v in candidate.tags))
    if candidate.duration_seconds is not None:
        parts.append(f"duration {candidate.duration_seconds}s")
    if candidate.source_identity is not None:
        parts.append(f"source identity {candidate.source_identity}")
    return f"{candidate.role} ({'; '.join(parts)})"


def _test_json(trace: Trace, candidates: tuple[Candidate, ...]) -> dict[str, Any]:
    return {
        **trace.to_dict(),
        "candidate_details": [
            {
                "role": c.role,
                "rule_id": c.rule_id,
                "session_name": c.session_name,
                "tags": dict(c.tags),
                "duration_seconds": c.duration_seconds,
                "source_identity": c.source_identity,
            }
            for c in candidates
        ],
        "summary": trace.user_summary(),
    }


def _diff_row(
    path: Path, provider: str | None, old: MappingRules, new: MappingRules
) -> dict[str, Any]:
    raw = _read_json(path)
    name = provider_of(raw) or provider
    if name is None:
        raise BadInput(f"{path}: no `provider` key and no --provider option")
    claims = _claims(raw, path)
    before = map_identity(old, name, claims).roles
    after = map_identity(new, name, claims).roles
    return {
        "file": path.name,
        "provider": name,
        "subject": claims.subject,
        "old": list(before),
        "new": list(after),
        "added": [role for role in after if role not in before],
        "removed": [role for role in before if role not in after],
    }


def _diff_line(row: dict[str, Any]) -> str:
    who = f"{row['file']} ({row['provider']}, {row['subject'] or 'no subject'})"
    if not row["added"] and not row["removed"]:
        return f"{who}: unchanged [{', '.join(row['old'])}]"
    changes = [f"+{role}" for role in row["added"]] + [f"-{role}" for role in row["removed"]]
    return f"{who}: {' '.join(changes)}"


def _claims(raw: object, path: Path) -> Claims:
    try:
        return claims_from_json(raw, str(path))
    except InvalidInput as exc:
        raise BadInput(exc.message) from None


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the file: {exc}") from None
    except ValueError as exc:
        raise BadInput(f"{path}: not valid JSON: {exc}") from None


def _rules_file(path: Path) -> MappingRules:
    rules, faults = read_rules_file(path)
    if faults:
        raise BadInput("; ".join(f"{key}: {message}" for key, message in faults))
    return rules


def _settings(home: Path | None) -> Settings:
    try:
        return load_settings(home)
    except ConfigError as exc:
        raise BadInput(exc.message) from None
