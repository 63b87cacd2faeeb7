"""`RulesHolder`: the rules one app runs, replaced only by a file without faults.

The server refuses to start on a mapping with faults (`load_settings` reports them);
a reload while running keeps the last good rules when the new file has faults and
returns those faults for the caller to log. With `watch_seconds`, the holder looks at
the file's modification time at most that often and reloads it when it changed, so an
edited `bridge.yaml` takes effect without a restart (faults are logged, and the last
good rules stay until the file is fixed).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import yaml

from bridge.mapping.rules import EMPTY_RULES, Fault, MappingRules, parse_rules

MAPPING_KEY = "mapping"
log = logging.getLogger("bridge.mapping")


def read_rules_file(path: Path) -> tuple[MappingRules, list[Fault]]:
    """The rules under the top-level `mapping:` key of a `bridge.yaml`-shaped file.

    Faults name the key and end with the file, e.g. `(in /etc/bridge/bridge.yaml)`."""
    where = f"(in {path})"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return EMPTY_RULES, [(str(path), f"cannot read the file: {exc}")]
    except yaml.YAMLError as exc:
        return EMPTY_RULES, [(str(path), f"not valid YAML: {exc}")]
    if loaded is None:
        return EMPTY_RULES, []
    if not isinstance(loaded, dict):
        return EMPTY_RULES, [
            (str(path), f"expected a mapping at the top, got {type(loaded).__name__}")
        ]
    rules, faults = parse_rules(loaded.get(MAPPING_KEY), MAPPING_KEY)
    return rules, [(key, f"{message} {where}") for key, message in faults]


class RulesHolder:
    """Thread-safe holder of the current rules."""

    def __init__(
        self,
        rules: MappingRules = EMPTY_RULES,
        source: Path | None = None,
        *,
        watch_seconds: float | None = None,
    ) -> None:
        self._rules = rules
        self._source = source
        self._lock = threading.Lock()
        self._watch = watch_seconds
        self._next_look = time.monotonic() + (watch_seconds or 0)
        self._seen = _modified(source)

    @property
    def rules(self) -> MappingRules:
        if self._watch is not None and time.monotonic() >= self._next_look:
            self._look()
        with self._lock:
            return self._rules

    def _look(self) -> None:
        """Reload when the file changed since it was last read (one thread at a time)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_look = time.monotonic() + (self._watch or 0)
            modified = _modified(self._source)
            changed = modified != self._seen
            self._seen = modified
        finally:
            self._lock.release()
        if changed and self._source is not None:
            faults = self.reload()
            for key, message in faults:
                log.error(
                    "mapping rules not reloaded, the last good rules stay: %s: %s", key, message
                )
            if not faults:
                log.info("mapping rules reloaded from %s", self._source)

    @property
    def source(self) -> Path | None:
        return self._source

    def reload(self, path: Path | None = None) -> list[Fault]:
        """Read `path` (default: the file the rules came from); take its rules only when
        it has no fault. Returns the faults, empty when the new rules are in use."""
        target = path or self._source
        if target is None:
            return [("mapping", "no file to reload the rules from")]
        rules, faults = read_rules_file(target)
        if faults:
            return faults
        with self._lock:
            self._rules = rules
            self._source = target
        return []


def _modified(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime_ns / 1e9 if path is not None else None
    except OSError:
        return None
