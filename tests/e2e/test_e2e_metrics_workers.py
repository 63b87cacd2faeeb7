"""`/metrics` under `bridge serve --workers 3`: whichever worker answers a scrape, it
reports the sum over every worker (requests counted, audit events written)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live import LiveBridge
from tests.support.instances import instances

REQUESTS = 40
STS_LINE = 'bridge_http_requests_total{endpoint="/",method="POST",status="200"}'
AUDIT_LINE = "bridge_audit_events_written_total"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    root: Path = tmp_path_factory.mktemp("metrics-workers")
    with instances(root, 1, redis_url=None, workers=3) as running:
        yield running[0]


def _value(text: str, prefix: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def _scrape(bridge: LiveBridge) -> str:
    with urllib.request.urlopen(f"{bridge.url}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


def test_every_scrape_sums_all_workers(bridge: LiveBridge) -> None:
    iam = bridge.client("iam")
    before = _value(_scrape(bridge), STS_LINE)
    for n in range(REQUESTS):  # new connections: gunicorn's sync workers share them out
        iam.create_user(UserName=f"counted-{n}")
    deadline = time.monotonic() + 10
    while True:
        scrapes = [_scrape(bridge) for _ in range(6)]
        counted = {_value(text, STS_LINE) - before for text in scrapes}
        audited = {_value(text, AUDIT_LINE) for text in scrapes}
        if (counted == {REQUESTS} and min(audited) >= REQUESTS) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert counted == {REQUESTS}, "each scrape must report the requests of all workers"
    assert min(audited) >= REQUESTS
