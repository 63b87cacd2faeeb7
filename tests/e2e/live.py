"""Helpers for the live bridge of end-to-end tests: `bridge init` + `bridge serve` as real
processes, on SQLite and on a fresh PostgreSQL database, driven with boto3."""

from __future__ import annotations

import configparser
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import service_unavailable
from tests.support.peer_process import free_port
from tests.support.secret_scan import remember_log, remember_secret

POSTGRES_URL = os.environ.get(
    "BRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REGION = "eu-west-1"


@dataclass(frozen=True)
class LiveBridge:
    url: str
    home: Path
    access_key_id: str
    secret_access_key: str
    env: Mapping[str, str] = field(default_factory=dict)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `bridge ARGS --home <home>` against this bridge's home and database."""
        return subprocess.run(
            [sys.executable, "-m", "bridge", *args, "--home", str(self.home)],
            capture_output=True,
            text=True,
            env=dict(self.env),
            timeout=60,
            check=False,
        )

    def client(self, service: str, key: str | None = None, secret: str | None = None) -> Any:
        """A boto3 client for this bridge (default: the admin's credentials)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key or self.access_key_id,
            aws_secret_access_key=secret or self.secret_access_key,
            config=Config(retries={"max_attempts": 1}),
        )


HIGH_RATE_LIMITS = {
    "BRIDGE_RATE_LIMIT_STS_PER_MINUTE": "1000000",
    "BRIDGE_RATE_LIMIT_PROVIDER_PER_MINUTE": "10000000",
    "BRIDGE_RATE_LIMIT_SIGNIN_PER_MINUTE": "1000000",
}


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(extra)
    return env


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database, dropped at the end (each live bridge gets its own)."""
    name = f"bridge_e2e_{secrets.token_hex(5)}"
    conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"bridge serve exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("bridge serve did not answer within 30 s")


def start_bridge(home: Path, env: dict[str, str]) -> Iterator[LiveBridge]:
    init = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "init",
            "--home",
            str(home),
            "--account-id",
            "123456789012",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    creds = configparser.ConfigParser()
    creds.read(home / "admin-credentials")
    port = free_port()
    # The pages and SAML endpoints name the bridge by its base URL: the served one.
    # Bursts from one address are normal here; throttling has its own tests (which set
    # BRIDGE_RATE_LIMIT_* themselves, overriding these).
    env = {"BRIDGE_BASE_URL": f"http://127.0.0.1:{port}", **HIGH_RATE_LIMITS, **env}
    log = home.parent / f"{home.name}-serve.log"
    remember_log(log)
    remember_secret(creds["default"]["aws_secret_access_key"])
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--home", str(home), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield LiveBridge(
            url,
            home,
            creds["default"]["aws_access_key_id"],
            creds["default"]["aws_secret_access_key"],
            env,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def unchecked_client(bridge: LiveBridge, service: str = "iam") -> Any:
    """An admin client that skips botocore's own parameter checks, so the server's are seen."""
    return boto3.client(
        service,
        endpoint_url=bridge.url,
        region_name=REGION,
        aws_access_key_id=bridge.access_key_id,
        aws_secret_access_key=bridge.secret_access_key,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of a boto3 `ClientError`."""
    error = exc.value.response["Error"]
    return str(error["Code"]), str(error["Message"])
