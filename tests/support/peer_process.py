"""Start and stop the real identity-provider peers (`../shared/peers`, see its README).

Each peer runs from a copy in a temp folder (the shared folder stays untouched, and is
read-only in CI) with its run dir beside the copy, on a free loopback port. Where a peer
cannot run the test is skipped, and under `CI` it fails (`service_unavailable`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import peers_dir, service_unavailable

SKIPPED_PARTS = frozenset({".run", "node_modules"})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peer_user(username: str) -> dict[str, Any]:
    """A test user of the peers (`users.json`): username, password, email, groups..."""
    users = json.loads((peers_dir() / "users.json").read_text(encoding="utf-8"))["users"]
    found = [user for user in users if user["username"] == username]
    if not found:
        raise KeyError(f"no peer user `{username}` in users.json")
    return dict(found[0])


def require_peer(what: str, name: str, *commands: str) -> None:
    """Skip (fail under CI) when the peer's scripts or the programs it needs are missing."""
    start = peers_dir() / name / "start.sh"
    if not start.is_file():
        service_unavailable(what, f"{start} is missing")
    missing = [command for command in commands if shutil.which(command) is None]
    if missing:
        service_unavailable(what, f"{', '.join(missing)} not installed")


def copy_peer(name: str, target: Path) -> Path:
    """`peers/<name>` with the `lib.sh` and `users.json` it reads from its parent folder,
    copied writable into `target`; returns the copied `<name>` folder."""
    source_root = peers_dir()
    for shared in ("lib.sh", "users.json"):
        _copy_file(source_root / shared, target / shared)
    for source in sorted((source_root / name).rglob("*")):
        relative = source.relative_to(source_root)
        if source.is_file() and not SKIPPED_PARTS.intersection(relative.parts):
            _copy_file(source, target / relative)
    return target / name


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o755 if os.access(source, os.X_OK) else 0o644)


@contextmanager
def running_script(what: str, folder: Path, env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Run `folder/start.sh` with `env`, yield the `KEY=value` lines it printed, and run
    `folder/stop.sh` (which signals only the pid in its pid file) at the end."""
    full_env = {**os.environ, **env}
    values = _start(what, folder, full_env)
    try:
        yield values
    finally:
        subprocess.run(
            [str(folder / "stop.sh")], env=full_env, capture_output=True, timeout=30, check=False
        )


def _start(what: str, folder: Path, env: dict[str, str]) -> dict[str, str]:
    try:
        started = subprocess.run(
            [str(folder / "start.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        service_unavailable(what, "start.sh did not finish within 300 s")
        raise  # service_unavailable has skipped or failed the test already
    if started.returncode != 0:
        service_unavailable(what, f"start.sh failed: {started.stderr.strip()[-1500:]}")
    return _values(started.stdout)


def _values(printed: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}
