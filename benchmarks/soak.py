"""Soak test: mixed traffic at half the measured capacity for `--duration` seconds
(default 600) against the bridge as production runs it (gunicorn, loopback only).

Checks, each printed with PASS/FAIL (exit status 1 on any FAIL):
- no error responses (anything but HTTP 200, or a connection error);
- the resident memory of the gunicorn master and workers grows by at most 10% from the
  end of the warm-up (the first tenth of the run, at most 60 s) to the end;
- no lost audit events: the audit events stored in the database during the run equal
  the events the requests sent should produce (count in = count out), with the events
  per request of each kind measured once before the run.

The mix: GetCallerIdentity with a session token 40%, /v1/authorize with a bearer token
30% (when bridge/api/authorize.py exists; else its share goes to GetCallerIdentity),
AssumeRoleWithWebIdentity 20% and AssumeRoleWithSAML 10%, each one-time body made fresh
(a unique `jti` or assertion id). The capacity is measured first by the same client
sending as fast as it can for `--measure` seconds, unless `--rate` is given.

    .venv/bin/python benchmarks/soak.py                     # 10 minutes, SQLite
    .venv/bin/python benchmarks/soak.py --postgres --redis  # PostgreSQL + Redis
    .venv/bin/python benchmarks/soak.py --duration 60       # a short trial
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from load_rig import (
    Bridge,
    authorize_request,
    bridge_server,
    caller_identity_request,
    federation,
    saml_body,
    web_identity_body,
)
from sqlalchemy import create_engine, text

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
Request = tuple[str, str, bytes, dict[str, str]]  # kind, path, body, headers


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int | str) -> None:
        with self.lock:
            self.sent[kind] += 1
            if status != 200:
                self.errors[kind] += 1
                if len(self.samples) < 5:
                    self.samples.append(f"{kind}: {status}")


class Traffic:
    """Makes the requests of the mix; one keep-alive connection per sending thread."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self._local = threading.local()
        identity_body, identity_headers = caller_identity_request(bridge)
        self._fixed: dict[str, Request] = {
            "GetCallerIdentity": (
                "GetCallerIdentity",
                "/",
                identity_body.encode(),
                identity_headers,
            )
        }
        if os.path.exists(os.path.join(os.path.dirname(__file__), "../bridge/api/authorize.py")):
            body, headers = authorize_request(bridge)
            self._fixed["/v1/authorize"] = (
                "/v1/authorize",
                "/v1/authorize",
                body.encode(),
                headers,
            )
        authorize = "/v1/authorize" if "/v1/authorize" in self._fixed else "GetCallerIdentity"
        self.mix = [
            ("GetCallerIdentity", 40),
            (authorize, 30),
            ("AssumeRoleWithWebIdentity", 20),
            ("AssumeRoleWithSAML", 10),
        ]

    def make(self, kind: str) -> Request:
        if kind in self._fixed:
            return self._fixed[kind]
        tag = secrets.token_hex(8)
        if kind == "AssumeRoleWithSAML":
            return kind, "/", saml_body(self.bridge, f"_soak-{tag}").encode(), FORM
        return kind, "/", web_identity_body(self.bridge, f"soak-{tag}").encode(), FORM

    def pick(self, rng: random.Random) -> str:
        kinds, weights = zip(*self.mix, strict=True)
        return rng.choices(kinds, weights)[0]

    def send(self, request: Request) -> int | str:
        _, path, body, headers = request
        connection = self._connection()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._local.connection = None
            return type(exc).__name__
        return response.status

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            parts = urlsplit(self.bridge.url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            self._local.connection = connection
        return connection


def one(traffic: Traffic, tally: Tally, kind: str) -> None:
    tally.record(kind, traffic.send(traffic.make(kind)))


def closed_loop(traffic: Traffic, seconds: float, threads: int) -> float:
    """Requests per second when every thread sends as fast as it can."""
    tally, stop = Tally(), time.monotonic() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            one(traffic, tally, traffic.pick(rng))

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return sum(tally.sent.values()) / (time.monotonic() - started)


def paced(
    traffic: Traffic, tally: Tally, rate: float, seconds: float, on_tick: Callable[[float], None]
) -> None:
    """Open loop: request n leaves at start + n / rate, whatever the answers' speed."""
    rng, start, n = random.Random(7), time.monotonic(), 0
    with ThreadPoolExecutor(64) as pool:
        while (now := time.monotonic()) - start < seconds:
            due = start + n / rate
            if due > now:
                time.sleep(min(due - now, 0.05))
                continue
            pool.submit(one, traffic, tally, traffic.pick(rng))
            n += 1
            on_tick(now - start)


def audit_count(bridge: Bridge) -> int:
    engine = create_engine(bridge.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one())
    finally:
        engine.dispose()


def settled_audit_count(bridge: Bridge) -> int:
    """The count once it stops moving (in case audit writes trail the responses)."""
    last = audit_count(bridge)
    for _ in range(20):
        time.sleep(0.25)
        now = audit_count(bridge)
        if now == last:
            return now
        last = now
    return last


def events_per_request(traffic: Traffic, bridge: Bridge) -> dict[str, int]:
    """Audit events one request of each kind stores (measured, not assumed)."""
    found: dict[str, int] = {}
    for kind, _ in traffic.mix:
        before = settled_audit_count(bridge)
        status = traffic.send(traffic.make(kind))
        if status != 200:
            raise RuntimeError(f"calibration request {kind} answered {status}")
        found[kind] = settled_audit_count(bridge) - before
    return found


def check(label: str, ok: bool, detail: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'}  {label}: {detail}")
    return ok


def soak(bridge: Bridge) -> bool:
    traffic = Traffic(bridge)
    per_request = events_per_request(traffic, bridge)
    rate = ARGS.rate or closed_loop(traffic, ARGS.measure, ARGS.threads) / 2
    print(f"mix {traffic.mix}; audit events per request {per_request}; rate {rate:.0f}/s")
    tally, warm = Tally(), min(60.0, ARGS.duration / 10)
    audit_before = settled_audit_count(bridge)
    baseline: list[int] = []

    def on_tick(elapsed: float) -> None:
        if not baseline and elapsed >= warm:
            baseline.append(bridge.server.rss_bytes())

    paced(traffic, tally, rate, ARGS.duration, on_tick)
    end_rss = bridge.server.rss_bytes()
    stored = settled_audit_count(bridge) - audit_before
    expected = sum(per_request[kind] * count for kind, count in tally.sent.items())
    growth = end_rss / baseline[0] - 1 if baseline else 0.0
    total = sum(tally.sent.values())
    print(f"sent {total} requests in {ARGS.duration:.0f} s: {dict(tally.sent)}")
    results = [
        check("error responses", not tally.errors, f"{sum(tally.errors.values())} {tally.samples}"),
        check(
            "memory growth ≤ 10%",
            growth <= 0.10,
            f"{(baseline or [0])[0] / 2**20:.1f} MiB → {end_rss / 2**20:.1f} MiB ({growth:+.1%})",
        ),
        check("audit events in = out", stored == expected, f"expected {expected}, stored {stored}"),
    ]
    return all(results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=600, help="seconds of soak")
    parser.add_argument("--rate", type=float, default=0, help="requests/s (default: half capacity)")
    parser.add_argument("--measure", type=float, default=10, help="seconds to measure capacity")
    parser.add_argument("--threads", type=int, default=16, help="client threads when measuring")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    return parser.parse_args(argv)


def main() -> int:
    redis_url = "redis://127.0.0.1:6379/0" if ARGS.redis else None
    with ExitStack() as stack:
        bridge = stack.enter_context(
            bridge_server(workers=ARGS.workers, postgres=ARGS.postgres, redis_url=redis_url)
        )
        stack.enter_context(federation(bridge))
        passed = soak(bridge)
    return 0 if passed else 1


ARGS = parse_args([])

if __name__ == "__main__":
    ARGS = parse_args()
    raise SystemExit(main())
