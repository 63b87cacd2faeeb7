"""The decision trace: secrets removed, trust outcomes, the person's short summary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.mapping.claims import claims_from_json
from bridge.mapping.engine import map_identity
from bridge.mapping.rules import load_rules
from bridge.mapping.trace import Trace

RULES = load_rules(
    {
        "rules": [
            {
                "id": "admins",
                "provider": "corp-okta",
                "when": {"claim": "groups", "contains": "admins"},
                "roles": ["admin"],
            }
        ]
    }
)


def trace_for(claims: dict[str, Any], provider: str = "corp-okta") -> Trace:
    return map_identity(RULES, provider, claims_from_json(claims)).trace


@pytest.mark.parametrize(
    ("claims", "summary"),
    [
        pytest.param(
            {"groups": ["staff", "admins-old"]},
            "your groups were staff, admins-old; no rule matched them for provider corp-okta",
            id="no-rule-matched",
        ),
        pytest.param(
            {}, "you have no groups; no rule matched them for provider corp-okta", id="no-groups"
        ),
        pytest.param(
            {"groups": [f"g{i}" for i in range(12)]},
            "your groups were g0, g1, g2, g3, g4, g5, g6, g7, g8, g9 and 2 more; "
            "no rule matched them for provider corp-okta",
            id="many-groups",
        ),
        pytest.param(
            {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "u"}}},
            "your token says you are in too many groups to list them, and no group lookup is "
            "configured; no rule matched them for provider corp-okta",
            id="entra-overage",
        ),
        pytest.param(
            {"groups": ["admins"]},
            "your groups were admins; roles for provider corp-okta: admin",
            id="candidates",
        ),
    ],
)
def test_user_summary(claims: dict[str, Any], summary: str) -> None:
    assert trace_for(claims).user_summary() == summary


def test_user_summary_when_trust_refuses_every_role_names_no_policy() -> None:
    trace = trace_for({"groups": ["admins"]})
    trace.record_trust("arn:aws:iam::123456789012:role/admin", False, "statement `Deny` ...")
    text = trace.user_summary("corp-okta")
    assert text == (
        "your groups were admins; the rules for provider corp-okta proposed roles, "
        "but no role's trust policy accepts this sign-in"
    )
    assert "Deny" not in text


def test_with_trust_returns_a_new_trace_and_record_trust_adds_in_place() -> None:
    trace = trace_for({"groups": ["admins"]})
    arn = "arn:aws:iam::123456789012:role/admin"
    copy = trace.with_trust(arn, True, "allowed")
    assert trace.trust == [] and copy.accepted == (arn,)
    trace.record_trust(arn, False, "refused")
    assert trace.accepted == ()
    assert copy.user_summary() == "your groups were admins; roles for provider corp-okta: admin"


def test_to_dict_is_json_and_removes_secrets() -> None:
    claims = {
        "sub": "00u1",
        "groups": ["admins"],
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "access_token": "eyJhbGciOi",
        "client_secret": "s3cr3t",
        "_claim_sources": {"src1": {"endpoint": "https://graph", "access_token": "tok-secret-1"}},
        "email": "a@example.com",
    }
    trace = trace_for(claims)
    trace.record_trust("arn:aws:iam::123456789012:role/admin", True, "allowed")
    text = json.dumps(trace.to_dict())
    for secret in (
        "n-0S6_WzA2Mj",
        "77QmUPtjPfzWtF2AnpK9RQ",
        "eyJhbGciOi",
        "s3cr3t",
        "tok-secret-1",
    ):
        assert secret not in text
    data = trace.to_dict()
    assert data["identity"]["claims"]["email"] == "a@example.com"
    assert data["identity"]["claims"]["nonce"] == "***"
    assert data["rules"] == [
        {"id": "admins", "matched": True, "why": "`groups` contains `admins`", "roles": ["admin"]}
    ]
    assert data["granted"] == ["arn:aws:iam::123456789012:role/admin"]
    assert data["provider"] == "corp-okta"


def test_conditions_on_secret_claims_do_not_echo_their_values() -> None:
    rules = load_rules(
        {
            "rules": [
                {
                    "id": "r",
                    "providers": ["*"],
                    "when": {"claim": "nonce", "equals": "x"},
                    "roles": ["r"],
                }
            ]
        }
    )
    trace = map_identity(rules, "p", claims_from_json({"nonce": "n-secret"})).trace
    assert "n-secret" not in json.dumps(trace.to_dict())
    assert "***" in trace.rules[0].why


def test_long_claims_are_cut_in_the_trace() -> None:
    trace = trace_for({"groups": [f"g{i}" for i in range(80)]})
    kept = trace.to_dict()["identity"]["claims"]["groups"]
    assert len(kept) == 51 and kept[-1] == "… 30 more"
