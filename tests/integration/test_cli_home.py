"""`bridge init` and `bridge serve` as an operator runs them: real processes, real files."""

from __future__ import annotations

import configparser
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BRIDGE = [sys.executable, "-m", "bridge"]


def run_bridge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    clean.update(env or {})
    return subprocess.run(
        [*BRIDGE, *args], capture_output=True, text=True, timeout=120, env=clean, check=False
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("homes") / "h"
    result = run_bridge("init", "--home", str(path), "--account-id", "123456789012")
    assert result.returncode == 0, result.stderr
    return path


def test_init_writes_the_home_with_private_files(home: Path) -> None:
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("admin-credentials", "master.key"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert (home / "bridge.db").exists()
    assert "account_id: '123456789012'" in (home / "bridge.yaml").read_text()


def test_admin_credentials_are_a_default_aws_profile(home: Path) -> None:
    parser = configparser.ConfigParser()
    parser.read(home / "admin-credentials")
    key_id = parser["default"]["aws_access_key_id"]
    secret = parser["default"]["aws_secret_access_key"]
    assert key_id.startswith("AKIA") and len(key_id) == 20
    assert len(secret) == 40


def test_secret_and_root_password_are_not_stored_in_clear(home: Path) -> None:
    parser = configparser.ConfigParser()
    parser.read(home / "admin-credentials")
    secret = parser["default"]["aws_secret_access_key"].encode()
    database = (home / "bridge.db").read_bytes()
    assert secret not in database


def test_init_twice_refuses_and_changes_nothing(home: Path) -> None:
    before = {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}
    result = run_bridge("init", "--home", str(home))
    assert result.returncode != 0
    assert "is a bridge home already" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}
    assert after == before


def test_init_force_moves_the_old_home_aside(tmp_path: Path) -> None:
    target = tmp_path / "h"
    assert run_bridge("init", "--home", str(target)).returncode == 0
    old_key = (target / "admin-credentials").read_text()
    result = run_bridge("init", "--home", str(target), "--force")
    assert result.returncode == 0, result.stderr
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("h.bak-")]
    assert len(backups) == 1
    assert (backups[0] / "admin-credentials").read_text() == old_key
    assert (target / "admin-credentials").read_text() != old_key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account-id", "12ab"], "--account-id: expected 12 digits, got `12ab`"),
        (["--account-id", "1234567890123"], "expected 12 digits"),
    ],
    ids=["letters", "too-long"],
)
def test_init_rejects_bad_account_ids_and_leaves_no_home(
    tmp_path: Path, args: list[str], message: str
) -> None:
    target = tmp_path / "h"
    result = run_bridge("init", "--home", str(target), *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not target.exists()


def test_config_validate_reports_each_fault(tmp_path: Path, home: Path) -> None:
    ok = run_bridge("config", "validate", "--home", str(home))
    assert ok.returncode == 0, ok.stderr
    bad = run_bridge(
        "config", "validate", "--home", str(home), env={"BRIDGE_DB_POOL_SIZE": "0", "BRIDGE_X": "1"}
    )
    assert bad.returncode == 2
    assert "error: BRIDGE_X: unknown environment variable" in bad.stderr
    assert "error: db_pool_size:" in bad.stderr


def test_serve_refuses_a_directory_that_is_not_a_home(tmp_path: Path) -> None:
    result = run_bridge("serve", "--home", str(tmp_path), "--port", "1")
    assert result.returncode != 0
    assert "run `bridge init" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(params=[None, 2], ids=["development-server", "gunicorn-workers"])
def server(request: pytest.FixtureRequest, home: Path) -> Iterator[str]:
    port = _free_port()
    args = ["serve", "--home", str(home), "--port", str(port)]
    if request.param:
        args += ["--workers", str(request.param)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    proc = subprocess.Popen(
        [*BRIDGE, *args], env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()


def _wait_until_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"bridge serve exited early: {output}")
        try:
            _get(base + "/healthz")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("bridge serve did not answer within 30 s")


def test_served_bridge_is_healthy_and_ready(server: str) -> None:
    assert _get(server + "/healthz") == (200, {"status": "ok"})
    status, body = _get(server + "/readyz")
    assert status == 200
    audit = {"queue_depth": 0, "written": 0, "lost": 0}
    assert body == {"status": "ready", "checks": {"database": "ok"}, "audit": audit}
