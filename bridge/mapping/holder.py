"""`RulesHolder`: the rules one app runs, replaced only by a file without faults.

The server refuses to start on a mapping with faults (`load_settings` reports them);
a reload while running keeps the last good rules when the new file has faults and
returns those faults for the caller to log.
"""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

from bridge.mapping.rules import EMPTY_RULES, Fault, MappingRules, parse_rules

MAPPING_KEY = "mapping"


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

    def __init__(self, rules: MappingRules = EMPTY_RULES, source: Path | None = None) -> None:
        self._rules = rules
        self._source = source
        self._lock = threading.Lock()

    @property
    def rules(self) -> MappingRules:
        with self._lock:
            return self._rules

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
