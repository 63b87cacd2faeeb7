"""Settings: defaults, bridge.yaml, BRIDGE_* precedence, and every fault at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.settings import load_settings, resolve_home, validate


def _home(tmp_path: Path, yaml_text: str | None) -> Path:
    if yaml_text is not None:
        (tmp_path / "bridge.yaml").write_text(yaml_text, encoding="utf-8")
    return tmp_path


def test_defaults_use_sqlite_in_the_home(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.home == tmp_path.resolve()
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'bridge.db'}"
    assert settings.redis_url is None
    assert settings.development is False


def test_yaml_values_are_read(tmp_path: Path) -> None:
    home = _home(tmp_path, "account_id: '123456789012'\nlog_level: debug\ndb_pool_size: 7\n")
    settings = load_settings(home, environ={})
    assert (settings.account_id, settings.log_level, settings.db_pool_size) == (
        "123456789012",
        "DEBUG",
        7,
    )


def test_environment_overrides_yaml(tmp_path: Path) -> None:
    home = _home(tmp_path, "account_id: '123456789012'\n")
    env = {
        "BRIDGE_ACCOUNT_ID": "210987654321",
        "BRIDGE_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:5432/db",
        "BRIDGE_REDIS_URL": "redis://127.0.0.1:6379/0",
        "BRIDGE_BASE_URL": "https://bridge.example.com/",
    }
    settings = load_settings(home, environ=env)
    assert settings.account_id == "210987654321"
    assert settings.effective_database_url == "postgresql+psycopg://u@127.0.0.1:5432/db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.base_url == "https://bridge.example.com"


def test_every_fault_is_reported_at_once_with_its_key(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        "account_id: '12345'\ndb_pool_size: 0\ncolour: blue\nbase_url: ftp://x\n",
    )
    env = {"BRIDGE_DATABSE_URL": "sqlite:///x", "BRIDGE_REDIS_URL": "http://127.0.0.1"}
    with pytest.raises(ConfigError) as caught:
        load_settings(home, environ=env)
    keys = sorted(key for key, _ in caught.value.faults)
    assert keys == [
        "BRIDGE_DATABSE_URL",
        "account_id",
        "base_url",
        "colour",
        "db_pool_size",
        "redis_url",
    ]
    messages = dict(caught.value.faults)
    assert messages["colour"] == "unknown key"
    assert "12 digits" in messages["account_id"]
    assert messages["BRIDGE_DATABSE_URL"] == "unknown environment variable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("account_id: [unclosed\n", "not valid YAML"),
        ("- a list\n- at the top\n", "expected a mapping at the top, got list"),
    ],
    ids=["broken-yaml", "not-a-mapping"],
)
def test_unreadable_yaml_is_a_fault_naming_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    home = _home(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(home, environ={})
    ((key, message),) = caught.value.faults
    assert key.endswith("bridge.yaml")
    assert expected in message


def test_database_password_is_redacted_in_messages(tmp_path: Path) -> None:
    env = {"BRIDGE_DATABASE_URL": "mysql://user:hunter2@db/x"}
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ=env)
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_validate_lists_faults_without_raising(tmp_path: Path) -> None:
    _home(tmp_path, "max_request_bytes: 10\n")
    faults = validate(tmp_path)
    assert [key for key, _ in faults] == ["max_request_bytes"]


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ("explicit", {"BRIDGE_HOME": "fromenv"}, "explicit"),
        (None, {"BRIDGE_HOME": "fromenv"}, "fromenv"),
        (None, {}, ".bridge"),
    ],
    ids=["flag-wins", "environment", "default"],
)
def test_home_resolution(given: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_home(given, env) == Path(expected).resolve()
