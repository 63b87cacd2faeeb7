"""`bridge audit query`: read the audit events stored in the database, newest first;
`bridge audit purge`: delete the events older than a retention period."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import click

from bridge.clock import Clock, SystemClock
from bridge.errors import StorageUnavailable
from bridge.settings import load_settings
from bridge.storage import open_store
from bridge.storage.audit_records import AuditRecord

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@click.group()
def audit() -> None:
    """Audit events (sign-ins, issuances, refusals)."""


@audit.command("query")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--since", help="ISO 8601 time, or an age such as 30m, 1h, 7d.")
@click.option("--until", help="ISO 8601 time, or an age such as 30m, 1h, 7d (exclusive).")
@click.option("--principal", help="Only events of this principal ARN.")
@click.option("--event", help="Only events of this name, e.g. AssumeRoleWithSAML.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def query(
    ctx: click.Context,
    home: Path | None,
    since: str | None,
    until: str | None,
    principal: str | None,
    event: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Print stored events, newest first: one line each, or JSON lines."""
    now = _clock(ctx).now()
    start = parse_moment(since, now, "--since") if since else None
    end = parse_moment(until, now, "--until") if until else None
    records = _read(home, start, end, principal, event, limit)
    render = to_json_line if fmt == "json" else to_text_line
    for record in records:
        click.echo(render(record))


@audit.command("purge")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--before", required=True, help="ISO 8601 time, or an age such as 90d.")
@click.pass_context
def purge(ctx: click.Context, home: Path | None, before: str) -> None:
    """Delete stored events older than `--before` (keep what your retention policy needs)."""
    moment = parse_moment(before, _clock(ctx).now(), "--before")
    store = open_store(load_settings(home).effective_database_url)
    try:
        with store.transaction() as uow:
            removed = uow.audit.purge(moment)
    except StorageUnavailable as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.close()
    click.echo(f"deleted {removed} audit events older than {moment.isoformat()}")


def _clock(ctx: click.Context) -> Clock:
    """The clock in `ctx.obj["clock"]` when a caller (a test) put one there."""
    found = ctx.obj.get("clock") if isinstance(ctx.obj, dict) else None
    return SystemClock() if found is None else cast(Clock, found)


def _read(
    home: Path | None,
    since: datetime | None,
    until: datetime | None,
    principal: str | None,
    event: str | None,
    limit: int,
) -> list[AuditRecord]:
    store = open_store(load_settings(home).effective_database_url)
    try:
        with store.transaction() as uow:
            return uow.audit.query(
                since=since, until=until, principal=principal, event=event, limit=limit
            )
    except StorageUnavailable as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.close()


def parse_moment(text: str, now: datetime, option: str) -> datetime:
    """An ISO 8601 time (UTC when no offset is given) or an age before `now`."""
    age = _DURATION.fullmatch(text.strip())
    if age:
        return now - timedelta(seconds=int(age.group(1)) * _UNIT_SECONDS[age.group(2)])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time or an age such as `30m`, `1h`, `7d`, got `{text}`",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_text_line(record: AuditRecord) -> str:
    """`time event result principal source_ip request_id [error_code: error_message]`."""
    parts = [
        f"{record.time.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        record.event_name,
        record.result,
        record.principal or "-",
        record.source_ip or "-",
        record.request_id,
    ]
    if record.error_code or record.error_message:
        parts.append(f"{record.error_code or '-'}: {record.error_message or ''}")
    return _one_line(" ".join(parts))


def to_json_line(record: AuditRecord) -> str:
    """One JSON object; parameters and details as objects (kept as text if not JSON)."""
    values: dict[str, Any] = {
        "time": record.time.astimezone(UTC).isoformat(),
        "event_name": record.event_name,
        "result": record.result,
        "request_id": record.request_id,
        "principal": record.principal,
        "source_ip": record.source_ip,
        "user_agent": record.user_agent,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "parameters": _loads(record.parameters),
        "details": _loads(record.details),
    }
    return json.dumps(values, sort_keys=True)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _one_line(text: str) -> str:
    """Control characters escaped, so a stored value cannot forge another line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
