"""The CLI's private files: owner-only modes, atomic replacement, profile-name checks."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.cli_files import CliFiles, SignInSession, check_profile, cli_dir, read_json
from bridge.cli_signin import RENEW_BEFORE, _fresh
from bridge.errors import ClientFault

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_round_trip_is_owner_only(tmp_path: Path) -> None:
    files = CliFiles(tmp_path / "cli")
    session = SignInSession("http://127.0.0.1:5000", "tok", "2026-11-28T13:00:00Z", "alice")
    path = files.save_session("work", session)
    assert files.load_session("work") == session
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert not list(path.parent.glob(".*.tmp"))


def test_credentials_cache_is_per_profile_and_role(tmp_path: Path) -> None:
    files = CliFiles(tmp_path)
    files.cache_credentials("work", "arn:aws:iam::1:role/a", {"AccessKeyId": "A"})
    files.cache_credentials("work", "arn:aws:iam::1:role/b", {"AccessKeyId": "B"})
    assert files.cached_credentials("work", "arn:aws:iam::1:role/a") == {"AccessKeyId": "A"}
    assert files.cached_credentials("home", "arn:aws:iam::1:role/a") is None
    files.forget("work")
    assert files.cached_credentials("work", "arn:aws:iam::1:role/b") is None


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../escape", id="path-traversal"),
        pytest.param("", id="empty"),
        pytest.param("a" * 65, id="too-long"),
        pytest.param("with space", id="space"),
    ],
)
def test_bad_profile_names_are_refused(name: str) -> None:
    with pytest.raises(ClientFault, match="profile name"):
        check_profile(name)


def test_unreadable_files_read_as_absent(tmp_path: Path) -> None:
    broken = tmp_path / "x.json"
    broken.write_text("{not json")
    assert read_json(broken) is None
    assert read_json(tmp_path / "missing.json") is None
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "p.json").write_text('{"unexpected": 1}')
    assert CliFiles(tmp_path).load_session("p") is None


def test_cli_dir_honours_the_environment(tmp_path: Path) -> None:
    assert cli_dir({"BRIDGE_CLI_DIR": str(tmp_path)}) == tmp_path


@pytest.mark.parametrize(
    ("expires_in", "fresh"),
    [
        pytest.param(RENEW_BEFORE + timedelta(seconds=1), True, id="beyond-renewal-window"),
        pytest.param(RENEW_BEFORE - timedelta(seconds=1), False, id="inside-renewal-window"),
        pytest.param(-timedelta(seconds=1), False, id="expired"),
    ],
)
def test_cached_credentials_renew_shortly_before_expiry(expires_in: timedelta, fresh: bool) -> None:
    expiration = (NOW + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _fresh({"Expiration": expiration}, NOW) is fresh


def test_session_expiry() -> None:
    session = SignInSession("u", "t", "2026-11-28T12:00:00Z")
    assert session.expired(NOW)
    assert not session.expired(NOW - timedelta(seconds=1))
