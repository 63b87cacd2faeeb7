"""Several `bridge serve` processes sharing one fresh PostgreSQL database and Redis, as
instances behind a load balancer would.

`bridge init` runs once (it creates the schema, the key ring and the admin); each
instance then gets a copy of that home (the same master key and configuration, as a
deployment would ship it) and its own port and environment. Every instance answers for
the same public base URL (`BASE_URL`), so a SAML assertion addressed to the bridge is
valid at any of them. `--workers N` runs gunicorn, the production server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

from tests.conftest import service_unavailable
from tests.e2e.live import HIGH_RATE_LIMITS, LiveBridge, clean_env, postgres_database
from tests.support.peer_process import free_port
from tests.support.secret_scan import remember_log, remember_secret

BASE_URL = "http://bridge.example.test"
REDIS_URL = "redis://127.0.0.1:6379/0"
ACCOUNT = "123456789012"


def require_redis(url: str = REDIS_URL) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", str(exc))
    finally:
        client.close()


def init_home(home: Path, env: Mapping[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "init", "--home", str(home), "--account-id", ACCOUNT],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def admin_keys(home: Path) -> tuple[str, str]:
    import configparser

    creds = configparser.ConfigParser()
    creds.read(home / "admin-credentials")
    return creds["default"]["aws_access_key_id"], creds["default"]["aws_secret_access_key"]


@contextmanager
def serving(
    home: Path, env: Mapping[str, str], *, workers: int | None = 2, port: int | None = None
) -> Iterator[LiveBridge]:
    """`bridge serve` on `home` until the block ends; waits for `/healthz`."""
    port = port or free_port()
    command = [sys.executable, "-m", "bridge", "serve", "--home", str(home), "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    log = home.parent / f"{home.name}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, log)
        key, secret = admin_keys(home)
        remember_log(log)
        remember_secret(secret)
        yield LiveBridge(url, home, key, secret, dict(env))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"bridge serve exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"bridge serve did not answer within {limit} s:\n{log.read_text()}")


def instance_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_BASE_URL": BASE_URL,
        **HIGH_RATE_LIMITS,  # these tests send bursts from one address; throttling is tested apart
        **extra,
    }
    if redis_url:
        env["BRIDGE_REDIS_URL"] = redis_url
    return clean_env(env)


@contextmanager
def shared_home(root: Path, database_url: str) -> Iterator[Path]:
    """`bridge init` once on the shared database; the home to copy per instance."""
    home = root / "seed"
    init_home(home, instance_env(database_url, None))
    yield home


def copy_home(seed: Path, name: str) -> Path:
    target = seed.parent / name
    shutil.copytree(seed, target)
    return target


@contextmanager
def instances(
    root: Path,
    count: int,
    *,
    redis_url: str | None = REDIS_URL,
    workers: int | None = 2,
    database_url: str | None = None,
) -> Iterator[list[LiveBridge]]:
    """`count` instances on one fresh database (dropped at the end) and Redis."""
    if redis_url:
        require_redis(redis_url)
    with ExitStack() as stack:
        url = database_url or stack.enter_context(postgres_database())
        seed = stack.enter_context(shared_home(root, url))
        running = [
            stack.enter_context(
                serving(copy_home(seed, f"i{n}"), instance_env(url, redis_url), workers=workers)
            )
            for n in range(count)
        ]
        yield running
