"""`bridge sessions revoke`: end temporary credentials before they expire, on every instance."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bridge.errors import NotFound
from bridge.settings import load_settings

if TYPE_CHECKING:
    from bridge.services import Services


@click.group()
def sessions() -> None:
    """Temporary credentials (STS sessions)."""


@sessions.command("revoke")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--session", "session_id", help="One session: its ASIA… access key id or token id.")
@click.option("--role", help="Every session of this role issued before --before.")
@click.option("--user", help="Every session of this user issued before --before.")
@click.option("--before", help="ISO 8601 time (default: now).")
def revoke(
    home: Path | None,
    session_id: str | None,
    role: str | None,
    user: str | None,
    before: str | None,
) -> None:
    """Refuse one session, or all sessions of a role or user issued before a time."""
    chosen = [value for value in (session_id, role, user) if value]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --session, --role, --user")
    from bridge.services import build_services

    services = build_services(load_settings(home))
    if session_id:
        services.revocations.revoke_session(session_id)
        click.echo(f"revoked session {session_id}")
        return
    principal_id = _principal_id(services, role, user)
    cut = _parse_time(before) if before else None
    rule = services.revocations.revoke_principal(principal_id, issued_before=cut)
    name = role or user
    click.echo(
        f"revoked every session of {name} issued before {rule.not_before:%Y-%m-%dT%H:%M:%SZ}"
    )


def _principal_id(services: Services, role: str | None, user: str | None) -> str:
    directory = services.directory
    try:
        if role:
            return str(directory.roles.get(role).role_id)
        return str(directory.users.get(user or "").user_id)
    except NotFound as exc:
        raise click.BadParameter(exc.message, param_hint="--role" if role else "--user") from None


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time, got `{text}`", param_hint="--before"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
