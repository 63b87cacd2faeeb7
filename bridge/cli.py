"""The `bridge` command.

Every command takes `--home DIR` (or `BRIDGE_HOME`, default `./.bridge`). Faults are
reported as `error: ...` on stderr with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bridge.errors import BridgeError, ConfigError
from bridge.settings import load_settings, resolve_home

F = TypeVar("F", bound=Callable[..., Any])


def home_option(func: F) -> F:
    option = click.option(
        "--home",
        "home",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The bridge home (default: $BRIDGE_HOME or ./.bridge).",
    )
    return option(func)


@click.group()
@click.version_option(package_name="bridge")
def cli() -> None:
    """bridge: a self-hosted federation bridge with an IAM-compatible policy engine."""


@cli.command()
@home_option
@click.option("--account-id", default=None, help="The 12-digit account id (default: random).")
@click.option("--force", is_flag=True, help="Move an existing home aside and start afresh.")
def init(home: Path | None, account_id: str | None, force: bool) -> None:
    """Create the home, database, key ring, root account and the admin user."""
    from bridge.bootstrap import initialise_home

    report = initialise_home(resolve_home(home), account_id=account_id, force=force)
    click.echo(report)


@cli.command()
@home_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Run gunicorn.")
def serve(home: Path | None, host: str, port: int, workers: int | None) -> None:
    """Serve the bridge (development server, or gunicorn with --workers)."""
    from bridge.serving import serve as run_server

    run_server(resolve_home(home), host=host, port=port, workers=workers)


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@home_option
def db_upgrade(home: Path | None) -> None:
    """Apply every pending migration."""
    from bridge.storage import migrate

    settings = load_settings(home)
    migrate.upgrade(settings.effective_database_url)
    click.echo(f"database at revision {migrate.current(settings.effective_database_url)}")


@db.command("current")
@home_option
def db_current(home: Path | None) -> None:
    """Print the database's migration revision."""
    from bridge.storage import migrate

    settings = load_settings(home)
    click.echo(migrate.current(settings.effective_database_url) or "(empty database)")


@cli.group()
def keys() -> None:
    """The key ring."""


@keys.command("rotate")
@home_option
@click.option("--purpose", type=click.Choice(["data", "token"]), default="token", show_default=True)
def keys_rotate(home: Path | None, purpose: str) -> None:
    """Add a new active key; older keys keep opening what they sealed."""
    from bridge.services import build_services

    services = build_services(load_settings(home))
    key_id = services.key_ring.rotate(purpose)
    click.echo(f"new active {purpose} key {key_id}")


@keys.command("list")
@home_option
def keys_list(home: Path | None) -> None:
    """List the keys (ids, purposes, status; never key material)."""
    from bridge.services import build_services

    services = build_services(load_settings(home))
    services.key_ring.reload()
    for record in sorted(services.key_ring.records(), key=lambda r: r.created_at):
        created = record.created_at.isoformat()
        click.echo(f"{record.key_id}  {record.purpose:<5}  {record.status:<7}  {created}")


@cli.group()
def config() -> None:
    """Configuration."""


@config.command("validate")
@home_option
def config_validate(home: Path | None) -> None:
    """Check bridge.yaml and the BRIDGE_* environment, and run the mapping rules' examples;
    print every fault."""
    from bridge.mapping.examples import check_examples
    from bridge.mapping.rules import load_rules

    settings = load_settings(home)
    failing = check_examples(load_rules(settings.mapping))
    if failing:
        raise ConfigError([(key, f"{msg} (in {settings.config_path})") for key, msg in failing])
    click.echo(f"configuration in {settings.home} is valid")


def _register_commands() -> None:
    from bridge.audit_cli import audit
    from bridge.mapping_cli import mapping
    from bridge.policy_cli import policy
    from bridge.report_cli import report
    from bridge.sessions_cli import sessions
    from bridge.signin_cli import credential_process_command, login, logout

    for command in (audit, policy, report, sessions, login, logout, credential_process_command):
        cli.add_command(command)
    cli.add_command(mapping)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turning bridge errors into one clear line."""
    try:
        status = cli.main(args=argv, prog_name="bridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        for key, message in exc.faults:
            click.echo(f"error: {key}: {message}", err=True)
        sys.exit(2)
    except BridgeError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if isinstance(status, int) and status:
        sys.exit(status)
