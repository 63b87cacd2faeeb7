"""`map_identity`: every condition operator, captures, combinations, the group filter."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bridge.mapping.claims import claims_from_json
from bridge.mapping.engine import map_identity
from bridge.mapping.rules import MappingRules, parse_rules

ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


def rules_of(text: str) -> MappingRules:
    rules, faults = parse_rules(yaml.safe_load(text))
    assert faults == []
    return rules


def one_rule(when: dict[str, Any], roles: list[str] | None = None, **extra: Any) -> MappingRules:
    raw = {"rules": [{"id": "r", "providers": ["*"], "when": when, "roles": roles or ["role"]}]}
    raw["rules"][0].update(extra)
    rules, faults = parse_rules(raw)
    assert faults == []
    return rules


def roles_for(rules: MappingRules, claims: dict[str, Any], provider: str = "corp") -> list[str]:
    return list(map_identity(rules, provider, claims_from_json(claims)).roles)


@pytest.mark.parametrize(
    ("when", "claims", "matched"),
    [
        pytest.param(
            {"claim": "email", "equals": "a@x.com"}, {"email": "a@x.com"}, True, id="equals"
        ),
        pytest.param(
            {"claim": "email", "equals": "a@x.com"},
            {"email": "A@x.com"},
            False,
            id="equals-case-sensitive",
        ),
        pytest.param({"claim": "email", "equals": "a@x.com"}, {}, False, id="equals-absent"),
        pytest.param(
            {"claim": "dept", "one_of": ["eng", "ops"]}, {"dept": "ops"}, True, id="one-of"
        ),
        pytest.param(
            {"claim": "dept", "one_of": ["eng", "ops"]}, {"dept": "sales"}, False, id="one-of-miss"
        ),
        pytest.param({"claim": "dept", "one_of": "eng"}, {"dept": "eng"}, True, id="one-of-scalar"),
        pytest.param(
            {"claim": "upn", "glob": "*@corp.example"}, {"upn": "a@corp.example"}, True, id="glob"
        ),
        pytest.param(
            {"claim": "upn", "glob": "*@corp.example"},
            {"upn": "a@corp.example.evil"},
            False,
            id="glob-anchored",
        ),
        pytest.param(
            {"claim": "upn", "glob": "adm-?"}, {"upn": "adm-1"}, True, id="glob-question-mark"
        ),
        pytest.param(
            {"claim": "groups", "regex": "team-.*"},
            {"groups": ["x", "team-a"]},
            True,
            id="regex-any-value",
        ),
        pytest.param(
            {"claim": "groups", "regex": "team"},
            {"groups": ["team-a"]},
            False,
            id="regex-full-match",
        ),
        pytest.param(
            {"claim": "groups", "contains": "admins"},
            {"groups": ["staff", "admins"]},
            True,
            id="contains",
        ),
        pytest.param(
            {"claim": "groups", "contains": "admin"},
            {"groups": ["admins"]},
            False,
            id="contains-exact",
        ),
        pytest.param(
            {"claim": "groups", "contains": "admins"}, {}, False, id="contains-missing-groups-empty"
        ),
        pytest.param(
            {"claim": "email", "email_domain": "example.com"},
            {"email": "a@Example.COM"},
            True,
            id="email-domain-case",
        ),
        pytest.param(
            {"claim": "email", "email_domain": "example.com"},
            {"email": "a@sub.example.com"},
            False,
            id="email-domain-exact",
        ),
        pytest.param(
            {"claim": "email", "email_domain": ["a.com", "@b.com"]},
            {"email": "x@b.com"},
            True,
            id="email-domain-list",
        ),
        pytest.param(
            {"claim": "email", "email_domain": "example.com"},
            {"email": "example.com"},
            False,
            id="email-domain-no-at",
        ),
        pytest.param({"claim": "email", "present": True}, {"email": "a@x"}, True, id="present"),
        pytest.param(
            {"claim": "email", "present": True}, {"email": []}, False, id="present-empty-list"
        ),
        pytest.param({"claim": "email", "present": False}, {}, True, id="absent"),
        pytest.param({"claim": "groups", "present": False}, {}, True, id="groups-missing-is-empty"),
        pytest.param(
            {"all": [{"claim": "groups", "contains": "a"}, {"claim": "groups", "contains": "b"}]},
            {"groups": ["a", "b"]},
            True,
            id="all",
        ),
        pytest.param(
            {"all": [{"claim": "groups", "contains": "a"}, {"claim": "groups", "contains": "b"}]},
            {"groups": ["a"]},
            False,
            id="all-one-fails",
        ),
        pytest.param(
            {"any": [{"claim": "groups", "contains": "a"}, {"claim": "groups", "contains": "b"}]},
            {"groups": ["b"]},
            True,
            id="any",
        ),
        pytest.param(
            {"any": [{"claim": "groups", "contains": "a"}, {"claim": "groups", "contains": "b"}]},
            {"groups": ["c"]},
            False,
            id="any-none",
        ),
        pytest.param(
            {"not": {"claim": "groups", "contains": "banned"}}, {"groups": ["x"]}, True, id="not"
        ),
        pytest.param(
            {"not": {"claim": "groups", "contains": "banned"}},
            {"groups": ["banned"]},
            False,
            id="not-held",
        ),
        pytest.param(
            {
                "all": [
                    {"claim": "sub", "present": True},
                    {
                        "not": {
                            "any": [
                                {"claim": "upn", "glob": "*@ext"},
                                {"claim": "groups", "contains": "x"},
                            ]
                        }
                    },
                ]
            },
            {"sub": "s", "upn": "a@corp"},
            True,
            id="nested",
        ),
    ],
)
def test_condition(when: dict[str, Any], claims: dict[str, Any], matched: bool) -> None:
    result = map_identity(one_rule(when), "corp", claims_from_json(claims))
    assert result.roles == (("role",) if matched else ())
    assert result.trace.rules[0].matched is matched
    assert result.trace.rules[0].why


def test_regex_each_matching_value_yields_its_roles() -> None:
    rules = one_rule(
        {"claim": "groups", "regex": "^team-(.*)$"}, ["$1-developer"], tags={"Team": "$1"}
    )
    result = map_identity(rules, "p", claims_from_json({"groups": ["team-a", "staff", "team-b"]}))
    assert result.roles == ("a-developer", "b-developer")
    assert [c.tags for c in result.candidates] == [(("Team", "a"),), (("Team", "b"),)]


def test_captures_under_all_are_numbered_in_order() -> None:
    when = {
        "all": [
            {"claim": "groups", "regex": "^env-(.*)$"},
            {"claim": "dept", "regex": "^(.*)-dept$"},
        ]
    }
    rules = one_rule(when, ["$2-$1"])
    assert roles_for(rules, {"groups": ["env-prod", "env-dev"], "dept": "pay-dept"}) == [
        "pay-prod",
        "pay-dev",
    ]


def test_captures_under_any_keep_the_bindings_of_every_part_that_held() -> None:
    when = {
        "any": [{"claim": "groups", "regex": "^a-(.*)$"}, {"claim": "groups", "regex": "^b-(.*)$"}]
    }
    rules = one_rule(when, ["r-$1"])
    assert roles_for(rules, {"groups": ["a-1", "b-2", "c-3"]}) == ["r-1", "r-2"]


def test_an_invalid_role_after_substitution_is_skipped_and_explained() -> None:
    rules = one_rule({"claim": "groups", "regex": "^team-(.*)$"}, ["$1-developer"])
    result = map_identity(rules, "p", claims_from_json({"groups": ["team-a b", "team-ok"]}))
    assert result.roles == ("ok-developer",)
    assert "`a b-developer` is not a valid role name" in result.trace.rules[0].why


def test_group_filter_applies_before_matching() -> None:
    rules = rules_of(
        """
        group_filter: "^(staff|team-.*)$"
        rules:
          - {id: any-group, providers: ["*"], when: {claim: groups, regex: "(.*)"}, roles: ["g-$1"]}
        """
    )
    result = map_identity(rules, "p", claims_from_json({"groups": ["staff", "admins", "team-x"]}))
    assert result.roles == ("g-staff", "g-team-x")
    assert result.trace.identity.groups == ("staff", "team-x")
    assert result.trace.identity.groups_filtered_out == 1


def test_group_filter_is_a_full_match() -> None:
    rules = rules_of(
        """
        group_filter: "team-"
        rules:
          - {id: r, providers: ["*"], when: {claim: groups, present: true}, roles: [r]}
        """
    )
    assert roles_for(rules, {"groups": ["team-a"]}) == []


def test_rules_for_other_providers_are_traced_as_not_matched() -> None:
    rules = rules_of(
        """
        rules:
          - {id: okta, provider: corp-okta, when: {claim: groups, contains: a}, roles: [ra]}
          - id: both
            providers: [corp-okta, corp-saml]
            when: {claim: groups, contains: a}
            roles: [rb]
        """
    )
    result = map_identity(rules, "corp-saml", claims_from_json({"groups": ["a"]}))
    assert result.roles == ("rb",)
    okta, both = result.trace.rules
    assert (okta.matched, okta.why) == (False, "the rule is for provider(s) corp-okta")
    assert both.matched and both.roles == ("rb",)
    assert rules.has_rules_for("corp-saml") and not rules.has_rules_for("other")


def test_a_role_proposed_twice_keeps_the_first_rule() -> None:
    rules = rules_of(
        """
        rules:
          - id: first
            providers: ["*"]
            when: {claim: groups, contains: a}
            roles: [r]
            duration_seconds: 900
          - {id: second, providers: ["*"], when: {claim: groups, contains: a}, roles: [r, s]}
        """
    )
    result = map_identity(rules, "p", claims_from_json({"groups": ["a"]}))
    assert [(c.role, c.rule_id, c.duration_seconds) for c in result.candidates] == [
        ("r", "first", 900),
        ("s", "second", None),
    ]
    assert "`r` already proposed by an earlier rule" in result.trace.rules[1].why


def test_session_name_template_default_and_sanitising() -> None:
    templated = one_rule({"claim": "sub", "present": True}, session_name="{name}")
    plain = one_rule({"claim": "sub", "present": True})
    claims = {"sub": "00u1", "name": "Alice Liddell/ops"}
    assert map_identity(templated, "p", claims_from_json(claims)).candidates[0].session_name == (
        "Alice-Liddell-ops"
    )
    assert map_identity(plain, "p", claims_from_json(claims)).candidates[0].session_name == "00u1"
    missing = map_identity(templated, "p", claims_from_json({"sub": "00u1"}))
    assert missing.candidates[0].session_name == "00u1"
    assert "claim `name` has no value" in missing.trace.rules[0].why


def test_session_name_is_cut_to_64() -> None:
    rules = one_rule({"claim": "sub", "present": True}, session_name="{sub}")
    name = map_identity(rules, "p", claims_from_json({"sub": "x" * 100})).candidates[0].session_name
    assert name == "x" * 64


def test_tags_from_claims_and_a_missing_claim_drops_the_tag() -> None:
    rules = one_rule(
        {"claim": "sub", "present": True},
        tags={"Department": "{department}", "Cost": "{cost_center}"},
        source_identity="{email}",
    )
    candidate = map_identity(
        rules, "p", claims_from_json({"sub": "s", "department": "Pay", "email": "a@x"})
    ).candidates[0]
    assert candidate.tags == (("Department", "Pay"),)
    assert candidate.source_identity == "a@x"


def test_role_arns_are_kept_as_arns() -> None:
    arn = "arn:aws:iam::123456789012:role/ops/admin"
    result = map_identity(
        one_rule({"claim": "sub", "present": True}, [arn]), "p", claims_from_json({"sub": "s"})
    )
    candidate = result.candidates[0]
    assert (candidate.role, candidate.role_name, candidate.role_arn("999999999999")) == (
        arn,
        "admin",
        arn,
    )


def test_adfs_role_uri_claims_match_by_their_full_name() -> None:
    rules = one_rule({"claim": ROLE_URI, "regex": "^AWS-Team-(.*)$"}, ["$1-developer"])
    assert roles_for(rules, {ROLE_URI: ["Domain Users", "AWS-Team-billing"]}) == [
        "billing-developer"
    ]
