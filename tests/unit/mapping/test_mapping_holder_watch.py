"""A watched `bridge.yaml`: edited rules take effect without a restart; a faulty edit is
logged and the last good rules stay."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from bridge.mapping.holder import RulesHolder, read_rules_file

GOOD = """
mapping:
  rules:
    - id: first
      providers: ["*"]
      when: {claim: groups, contains: staff}
      roles: [staff]
"""
BETTER = GOOD.replace("id: first", "id: second")
BROKEN = GOOD.replace("contains: staff", "regex: '(unclosed'")


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + bump
    os.utime(path, (stamp, stamp))


def _ids(holder: RulesHolder) -> list[str]:
    return [rule.id for rule in holder.rules.rules]


def test_watched_file_reloads_and_keeps_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "bridge.yaml"
    _write(config, GOOD, 0)
    rules, faults = read_rules_file(config)
    assert faults == []
    holder = RulesHolder(rules, source=config, watch_seconds=0.0)
    assert _ids(holder) == ["first"]
    _write(config, BETTER, 10)
    assert _ids(holder) == ["second"]
    _write(config, BROKEN, 20)
    with caplog.at_level(logging.ERROR, logger="bridge.mapping"):
        assert _ids(holder) == ["second"]
    assert "the last good rules stay" in caplog.text
    assert "regex" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bridge.mapping"):
        assert _ids(holder) == ["second"]
    assert caplog.text == "", "an unchanged faulty file is not re-read"


def test_unwatched_holder_never_reads_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    _write(config, GOOD, 0)
    holder = RulesHolder(read_rules_file(config)[0], source=config)
    _write(config, BETTER, 10)
    assert _ids(holder) == ["first"]
