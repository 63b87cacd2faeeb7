"""`bridge login`, `bridge logout` and `bridge credential-process` (see `cli_signin.py`)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import click

from bridge.cli_files import CliFiles, check_profile, cli_dir
from bridge.cli_loopback import loopback_sign_in
from bridge.cli_signin import call, check_url, device_sign_in

DEFAULT_URL = "http://127.0.0.1:5000"


def _files() -> CliFiles:
    return CliFiles(cli_dir())


@click.command("login")
@click.option("--url", default=None, help="The bridge (default: $BRIDGE_URL or the profile's).")
@click.option("--profile", default="default", show_default=True, help="Name for this sign-in.")
@click.option("--no-browser", is_flag=True, help="Use a device code; do not open a browser.")
def login(url: str | None, profile: str, no_browser: bool) -> None:
    """Sign in through the bridge's portal and keep a session for credential-process."""
    files = _files()
    check_profile(profile)
    earlier = files.load_session(profile)
    chosen = url or os.environ.get("BRIDGE_URL") or (earlier.url if earlier else DEFAULT_URL)
    base = check_url(chosen)
    session = None if no_browser else loopback_sign_in(base)
    if session is None:
        session = device_sign_in(base)
    path = files.save_session(profile, session)
    who = f" as {session.display_name}" if session.display_name else ""
    click.echo(f"signed in{who} until {session.expires_at} (profile `{profile}`, {path})", err=True)


@click.command("logout")
@click.option("--profile", default="default", show_default=True)
def logout(profile: str) -> None:
    """End the sign-in session for a profile and delete its cached credentials."""
    files = _files()
    session = files.load_session(profile)
    if session is not None:
        call(f"{session.url}/oauth/revoke", form={"token": session.access_token})
    files.forget(profile)
    click.echo(f"signed out (profile `{profile}`)", err=True)


@click.command("credential-process")
@click.option("--role", "role_arn", required=True, help="The role ARN to assume.")
@click.option("--profile", default="default", show_default=True, help="The `bridge login` name.")
@click.option("--duration", type=click.IntRange(900, 43200), default=None, help="Seconds.")
def credential_process_command(role_arn: str, profile: str, duration: int | None) -> None:
    """Print credentials in the AWS `credential_process` JSON format (cached, renewed)."""
    from bridge.cli_signin import credential_process

    credentials = credential_process(_files(), profile, role_arn, duration, datetime.now(UTC))
    click.echo(json.dumps(credentials))
