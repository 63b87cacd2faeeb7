"""Rule examples and reloading: a file with faults never replaces good rules."""

from __future__ import annotations

from pathlib import Path

from bridge.clock import FixedClock
from bridge.mapping.examples import check_examples
from bridge.mapping.holder import RulesHolder, read_rules_file
from bridge.mapping.rules import load_rules
from bridge.services import build_services
from bridge.settings import load_settings
from bridge.storage.memory import MemoryStore

DATA = Path(__file__).resolve().parents[2] / "data" / "mapping"

GOOD = """\
mapping:
  rules:
    - {id: a, provider: p, when: {claim: groups, contains: a}, roles: [ra]}
"""
BAD = """\
mapping:
  rules:
    - {id: a, provider: p, when: {claim: groups, regex: "("}, roles: [ra]}
    - {id: b, provider: p, when: {claim: groups, contains: b}, roles: []}
"""


def test_the_example_rules_hold_their_examples() -> None:
    rules, faults = read_rules_file(DATA / "bridge.yaml")
    assert faults == []
    assert check_examples(rules) == []
    assert sum(len(rule.examples) for rule in rules.rules) == 3


def test_a_failing_example_names_the_rule_and_the_index() -> None:
    rules = load_rules(
        {
            "rules": [
                {
                    "id": "teams",
                    "providers": ["*"],
                    "when": {"claim": "groups", "regex": "^team-(.*)$"},
                    "roles": ["$1-developer"],
                    "examples": [
                        {"claims": {"groups": ["team-a"]}, "roles": ["a-developer"]},
                        {"claims": {"groups": ["team-a", "team-b"]}, "roles": ["a-developer"]},
                        {"claims": {}, "roles": [], "provider": "x"},
                    ],
                }
            ]
        }
    )
    (fault,) = check_examples(rules)
    assert fault[0] == "mapping.rules[0].examples[1]"
    assert "rule `teams` yields [`a-developer`, `b-developer`]" in fault[1]
    assert "expects [`a-developer`]" in fault[1]


def test_an_example_uses_the_group_filter() -> None:
    rules = load_rules(
        {
            "group_filter": "^staff$",
            "rules": [
                {
                    "id": "r",
                    "provider": "p",
                    "when": {"claim": "groups", "contains": "admins"},
                    "roles": ["admin"],
                    "examples": [{"claims": {"groups": ["admins"]}, "roles": ["admin"]}],
                }
            ],
        }
    )
    (fault,) = check_examples(rules)
    assert "yields no role for provider `p`" in fault[1]


def test_reload_takes_good_rules_and_keeps_them_over_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text(GOOD, encoding="utf-8")
    holder = RulesHolder(source=path)
    assert holder.rules.rules == ()
    assert holder.reload() == []
    assert [rule.id for rule in holder.rules.rules] == ["a"]
    path.write_text(BAD, encoding="utf-8")
    faults = holder.reload(path)
    assert [key for key, _ in faults] == ["mapping.rules[0].when.regex", "mapping.rules[1].roles"]
    assert all(f"(in {path})" in message for _, message in faults)
    assert [rule.id for rule in holder.rules.rules] == ["a"]


def test_reload_of_an_unreadable_or_broken_file_keeps_the_rules(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    holder = RulesHolder(load_rules(None), source=good)
    holder.reload()
    (missing,) = holder.reload(tmp_path / "absent.yaml")
    assert "cannot read the file" in missing[1]
    broken = tmp_path / "broken.yaml"
    broken.write_text("mapping: [\n", encoding="utf-8")
    (fault,) = holder.reload(broken)
    assert "not valid YAML" in fault[1]
    assert [rule.id for rule in holder.rules.rules] == ["a"]
    assert holder.source == good


def test_reload_without_a_source_is_a_fault() -> None:
    assert RulesHolder().reload() == [("mapping", "no file to reload the rules from")]


def test_services_hold_the_rules_of_the_home_and_reload_them(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(GOOD, encoding="utf-8")
    settings = load_settings(tmp_path, environ={})
    services = build_services(
        settings, clock=FixedClock(), store=MemoryStore(), master_key=bytes(32)
    )
    holder = services.mapping
    assert services.mapping is holder
    assert [rule.id for rule in holder.rules.rules] == ["a"]
    assert holder.source == config
    config.write_text(BAD, encoding="utf-8")
    assert len(holder.reload()) == 2
    assert [rule.id for rule in services.mapping.rules.rules] == ["a"]
