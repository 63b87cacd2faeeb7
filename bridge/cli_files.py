"""Files the CLI keeps for a person: sign-in sessions and cached credentials.

Everything lives under `$BRIDGE_CLI_DIR` (default `~/.config/bridge`), in a folder of
mode 0700, each file mode 0600 and replaced atomically (written beside it, then
renamed), so another user cannot read a token and a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.errors import ClientFault

PROFILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class SignInSession:
    """What `bridge login` got from the bridge: a bearer token for the CLI endpoints."""

    url: str
    access_token: str
    expires_at: str  # ISO 8601, UTC
    display_name: str = ""

    def expired(self, now: datetime) -> bool:
        return parse_time(self.expires_at) <= now


def cli_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get("BRIDGE_CLI_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".config" / "bridge"


def check_profile(name: str) -> str:
    if not PROFILE_NAME.fullmatch(name):
        raise ClientFault(f"profile name `{name}` must be 1 to 64 letters, digits, `_`, `.` or `-`")
    return name


class CliFiles:
    def __init__(self, root: Path) -> None:
        self._root = root

    def save_session(self, profile: str, session: SignInSession) -> Path:
        path = self._root / "sessions" / f"{check_profile(profile)}.json"
        write_private(path, asdict(session))
        return path

    def load_session(self, profile: str) -> SignInSession | None:
        data = read_json(self._root / "sessions" / f"{check_profile(profile)}.json")
        if data is None:
            return None
        try:
            return SignInSession(**data)
        except TypeError:
            return None

    def forget(self, profile: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self._root / "sessions" / f"{check_profile(profile)}.json").unlink()
        for cached in (self._root / "cache").glob(f"{check_profile(profile)}-*.json"):
            cached.unlink(missing_ok=True)

    def cached_credentials(self, profile: str, role_arn: str) -> dict[str, Any] | None:
        return read_json(self._cache_path(profile, role_arn))

    def cache_credentials(self, profile: str, role_arn: str, credentials: dict[str, Any]) -> None:
        write_private(self._cache_path(profile, role_arn), credentials)

    def _cache_path(self, profile: str, role_arn: str) -> Path:
        digest = hashlib.sha256(role_arn.encode()).hexdigest()[:24]
        return self._root / "cache" / f"{check_profile(profile)}-{digest}.json"


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by the owner only, replacing any earlier file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when it is missing or unreadable as JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
