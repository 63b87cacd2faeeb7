"""Parsing the `mapping:` section: every fault is reported with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.errors import ConfigError
from bridge.mapping.rules import load_rules, parse_rules
from bridge.settings import load_settings

GOOD = {"id": "r", "providers": ["*"], "when": {"claim": "groups", "contains": "a"}, "roles": ["x"]}


def rule(**changes: Any) -> dict[str, Any]:
    item = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def faults_of(raw: object) -> list[tuple[str, str]]:
    return parse_rules(raw)[1]


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        pytest.param([1], "mapping", "expected a mapping", id="not-a-mapping"),
        pytest.param({"rulez": []}, "mapping.rulez", "unknown key", id="unknown-top-key"),
        pytest.param({"rules": {}}, "mapping.rules", "expected a list", id="rules-not-list"),
        pytest.param(
            {"group_filter": "(", "rules": []},
            "mapping.group_filter",
            "not a valid regular expression",
            id="bad-group-filter",
        ),
        pytest.param(
            {"rules": ["x"]}, "mapping.rules[0]", "expected a mapping", id="rule-not-mapping"
        ),
        pytest.param(
            {"rules": [rule(colour="red")]},
            "mapping.rules[0].colour",
            "unknown key",
            id="unknown-rule-key",
        ),
        pytest.param(
            {"rules": [rule(id=None)]}, "mapping.rules[0].id", "non-empty string", id="missing-id"
        ),
        pytest.param(
            {"rules": [rule(id="a b")]}, "mapping.rules[0].id", "`a b` must be", id="bad-id"
        ),
        pytest.param(
            {"rules": [rule(), rule()]},
            "mapping.rules[1].id",
            "also the id of rules[0]",
            id="duplicate-id",
        ),
        pytest.param(
            {"rules": [rule(providers=None)]},
            "mapping.rules[0].providers",
            "missing",
            id="no-providers",
        ),
        pytest.param(
            {"rules": [rule(provider="a")]},
            "mapping.rules[0].providers",
            "not both",
            id="provider-and-providers",
        ),
        pytest.param(
            {"rules": [rule(providers=["bad name"])]},
            "mapping.rules[0].providers[0]",
            "not a provider name",
            id="bad-provider",
        ),
        pytest.param(
            {"rules": [rule(when=None)]},
            "mapping.rules[0].when",
            "expected a condition",
            id="missing-when",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g"})]},
            "mapping.rules[0].when",
            "exactly one operator",
            id="no-operator",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g", "equals": "a", "contains": "b"})]},
            "mapping.rules[0].when",
            "exactly one operator",
            id="two-operators",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g", "startswith": "a"})]},
            "mapping.rules[0].when.startswith",
            "unknown key",
            id="unknown-operator",
        ),
        pytest.param(
            {"rules": [rule(when={"contains": "a"})]},
            "mapping.rules[0].when.claim",
            "non-empty string",
            id="no-claim",
        ),
        pytest.param(
            {"rules": [rule(when={"any": [{"claim": "g", "regex": "(x"}]})]},
            "mapping.rules[0].when.any[0].regex",
            "not a valid regular expression",
            id="bad-regex-nested",
        ),
        pytest.param(
            {"rules": [rule(when={"all": []})]},
            "mapping.rules[0].when.all",
            "non-empty list",
            id="empty-all",
        ),
        pytest.param(
            {"rules": [rule(when={"all": [{"claim": "g", "present": True}], "claim": "x"})]},
            "mapping.rules[0].when",
            "only key",
            id="all-with-more",
        ),
        pytest.param(
            {"rules": [rule(when={"not": {"claim": "g", "present": "yes"}})]},
            "mapping.rules[0].when.not.present",
            "true or false",
            id="present-not-bool",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g", "one_of": []})]},
            "mapping.rules[0].when.one_of",
            "non-empty list",
            id="empty-one-of",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g", "equals": 5})]},
            "mapping.rules[0].when.equals",
            "non-empty string",
            id="equals-not-string",
        ),
        pytest.param(
            {"rules": [rule(roles=[])]},
            "mapping.rules[0].roles",
            "at least one role",
            id="empty-roles",
        ),
        pytest.param(
            {"rules": [rule(roles=None)]},
            "mapping.rules[0].roles",
            "at least one role",
            id="missing-roles",
        ),
        pytest.param(
            {"rules": [rule(roles=["has space"])]},
            "mapping.rules[0].roles[0]",
            "not a role name",
            id="bad-role-name",
        ),
        pytest.param(
            {"rules": [rule(roles=["x" * 65])]},
            "mapping.rules[0].roles[0]",
            "not a role name",
            id="role-name-too-long",
        ),
        pytest.param(
            {"rules": [rule(roles=["arn:aws:iam::12:role/x"])]},
            "mapping.rules[0].roles[0]",
            "role ARN",
            id="bad-role-arn",
        ),
        pytest.param(
            {"rules": [rule(roles=["$1-dev"])]},
            "mapping.rules[0].roles[0]",
            "capture 0 group(s)",
            id="capture-without-regex",
        ),
        pytest.param(
            {"rules": [rule(when={"claim": "g", "regex": "(a)"}, roles=["$2"])]},
            "mapping.rules[0].roles[0]",
            "uses `$2`",
            id="capture-beyond-groups",
        ),
        pytest.param(
            {"rules": [rule(roles=["a{b"])]},
            "mapping.rules[0].roles[0]",
            "bad template",
            id="unbalanced-brace",
        ),
        pytest.param(
            {"rules": [rule(session_name="{}")]},
            "mapping.rules[0].session_name",
            "bad template",
            id="empty-claim-template",
        ),
        pytest.param(
            {"rules": [rule(session_name="$0")]},
            "mapping.rules[0].session_name",
            "numbered from 1",
            id="capture-zero",
        ),
        pytest.param(
            {"rules": [rule(tags=["a"])]},
            "mapping.rules[0].tags",
            "mapping of tag key",
            id="tags-not-mapping",
        ),
        pytest.param(
            {"rules": [rule(tags={"bad!key": "x"})]},
            "mapping.rules[0].tags.bad!key",
            "not a valid tag key",
            id="bad-tag-key",
        ),
        pytest.param(
            {"rules": [rule(tags={"Team": "$1"})]},
            "mapping.rules[0].tags.Team",
            "uses `$1`",
            id="tag-capture",
        ),
        pytest.param(
            {"rules": [rule(tags={"a": "x", "A": "y"})]},
            "mapping.rules[0].tags",
            "unique",
            id="tag-keys-case",
        ),
        pytest.param(
            {"rules": [rule(duration_seconds=899)]},
            "mapping.rules[0].duration_seconds",
            "from 900 to 43200",
            id="duration-low",
        ),
        pytest.param(
            {"rules": [rule(duration_seconds=43201)]},
            "mapping.rules[0].duration_seconds",
            "from 900 to 43200",
            id="duration-high",
        ),
        pytest.param(
            {"rules": [rule(duration_seconds="3600")]},
            "mapping.rules[0].duration_seconds",
            "whole number",
            id="duration-string",
        ),
        pytest.param(
            {"rules": [rule(duration_seconds=True)]},
            "mapping.rules[0].duration_seconds",
            "whole number",
            id="duration-bool",
        ),
        pytest.param(
            {"rules": [rule(examples={})]},
            "mapping.rules[0].examples",
            "expected a list",
            id="examples-not-list",
        ),
        pytest.param(
            {"rules": [rule(examples=[{"claims": [], "roles": []}])]},
            "mapping.rules[0].examples[0].claims",
            "JSON object",
            id="example-claims-not-object",
        ),
        pytest.param(
            {"rules": [rule(examples=[{"claims": {}, "roles": "x"}])]},
            "mapping.rules[0].examples[0].roles",
            "list of role names",
            id="example-roles-not-list",
        ),
        pytest.param(
            {"rules": [rule(examples=[{"claims": {}, "roles": [], "why": 1}])]},
            "mapping.rules[0].examples[0].why",
            "unknown key",
            id="example-unknown-key",
        ),
    ],
)
def test_fault_names_the_key(raw: object, key: str, words: str) -> None:
    faults = faults_of(raw)
    assert any(k == key and words in message for k, message in faults), faults


def test_every_fault_is_reported_at_once() -> None:
    raw = {
        "rules": [
            rule(roles=[], duration_seconds=1),
            rule(id="b", when={"claim": "g", "regex": "("}),
        ]
    }
    keys = {key for key, _ in faults_of(raw)}
    assert keys == {
        "mapping.rules[0].roles",
        "mapping.rules[0].duration_seconds",
        "mapping.rules[1].when.regex",
    }


def test_no_mapping_means_no_rules() -> None:
    assert parse_rules(None) == (load_rules(None), [])
    assert load_rules(None).rules == ()


def test_load_rules_raises_with_every_fault() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules({"rules": [rule(roles=[]), rule(id="b", duration_seconds=5)]})
    assert [key for key, _ in caught.value.faults] == [
        "mapping.rules[0].roles",
        "mapping.rules[1].duration_seconds",
    ]


def test_a_valid_rule_parses_into_its_parts() -> None:
    rules = load_rules(
        {
            "group_filter": "^(a|b)$",
            "rules": [
                rule(
                    provider="corp",
                    providers=None,
                    when={"claim": "g", "regex": "^t-(.*)$"},
                    roles=["$1-dev", "arn:aws:iam::123456789012:role/ops/$1"],
                    session_name="{email}",
                    tags={"Team": "$1"},
                    duration_seconds=3600,
                )
            ],
        }
    )
    (parsed,) = rules.rules
    assert parsed.providers == ("corp",)
    assert [t.source for t in parsed.roles] == ["$1-dev", "arn:aws:iam::123456789012:role/ops/$1"]
    assert parsed.duration_seconds == 3600
    assert rules.group_filter is not None and rules.group_filter.pattern == "^(a|b)$"


def write_home(tmp_path: Path, text: str) -> Path:
    (tmp_path / "bridge.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_load_settings_reports_mapping_faults_with_the_file(tmp_path: Path) -> None:
    home = write_home(
        tmp_path,
        "account_id: '123456789012'\n"
        "mapping:\n"
        "  rules:\n"
        "    - {id: a, providers: ['*'], when: {any: [{claim: g, regex: '('}]}, roles: [x]}\n"
        "    - {id: b, providers: ['*'], when: {claim: g, present: true}, roles: []}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(home, environ={})
    faults = dict(caught.value.faults)
    assert set(faults) == {"mapping.rules[0].when.any[0].regex", "mapping.rules[1].roles"}
    assert all(str(home / "bridge.yaml") in message for message in faults.values())


def test_load_settings_keeps_valid_rules(tmp_path: Path) -> None:
    home = write_home(
        tmp_path,
        "mapping:\n  rules:\n"
        "    - {id: a, provider: p, when: {claim: g, present: true}, roles: [x]}\n",
    )
    settings = load_settings(home, environ={})
    assert [r.id for r in load_rules(settings.mapping).rules] == ["a"]


def test_load_settings_reports_a_mapping_that_is_not_a_mapping(tmp_path: Path) -> None:
    home = write_home(tmp_path, "mapping: [1]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(home, environ={})
    assert [key for key, _ in caught.value.faults] == ["mapping"]
