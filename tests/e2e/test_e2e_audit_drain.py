"""A served bridge stops without losing audit events: N requests, then SIGTERM, then exactly
N events in PostgreSQL. The flush interval is set far beyond the test, so the events are
still queued at SIGTERM and only the shutdown drain (gunicorn's worker exit hook, the
development server's SIGTERM handler) can store them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.live import postgres_database
from tests.support.instances import init_home, instance_env, serving

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REQUESTS = 120


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def list_users_events(url: str) -> int:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, connect_timeout=3) as connection:
        row = connection.execute(
            "SELECT count(*) FROM audit_events WHERE event_name = 'ListUsers'"
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "workers",
    [pytest.param(2, id="gunicorn-2-workers"), pytest.param(None, id="development-server")],
)
def test_every_answered_request_is_stored_after_sigterm(
    tmp_path: Path, database: str, workers: int | None
) -> None:
    home = tmp_path / "home"
    env = instance_env(database, None, BRIDGE_AUDIT_FLUSH_MS="600000")
    init_home(home, env)
    with serving(home, env, workers=workers) as bridge:
        iam: Any = bridge.client("iam")
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: iam.list_users(), range(REQUESTS)))
        queued = list_users_events(database)
    statuses = {a["ResponseMetadata"]["HTTPStatusCode"] for a in answers}
    assert (len(answers), statuses, queued) == (REQUESTS, {200}, 0)
    assert list_users_events(database) == REQUESTS
