"""The browser-session settings: defaults, environment variables and their ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.settings import load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert (settings.session_idle_minutes, settings.session_absolute_hours) == (30, 12)


def test_environment_sets_them(tmp_path: Path) -> None:
    env = {"BRIDGE_SESSION_IDLE_MINUTES": "15", "BRIDGE_SESSION_ABSOLUTE_HOURS": "8"}
    settings = load_settings(tmp_path, environ=env)
    assert (settings.session_idle_minutes, settings.session_absolute_hours) == (15, 8)


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        pytest.param("BRIDGE_SESSION_IDLE_MINUTES", "0", "session_idle_minutes", id="idle-zero"),
        pytest.param("BRIDGE_SESSION_IDLE_MINUTES", "1441", "session_idle_minutes", id="idle-big"),
        pytest.param(
            "BRIDGE_SESSION_ABSOLUTE_HOURS", "169", "session_absolute_hours", id="absolute-big"
        ),
        pytest.param(
            "BRIDGE_SESSION_ABSOLUTE_HOURS", "x", "session_absolute_hours", id="absolute-text"
        ),
    ],
)
def test_out_of_range_values_name_the_key(
    tmp_path: Path, variable: str, value: str, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={variable: value})
    assert [fault[0] for fault in caught.value.faults] == [key]
