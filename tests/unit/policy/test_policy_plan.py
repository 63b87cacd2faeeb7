"""Per-action plans: resource masks, plans shared by actions, the memo's pause."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.policy import PolicySet, Request, parse_policy
from bridge.policy.compiled import Entry
from bridge.policy.plan import ActionPlan, ResourceTable


def _entries(*statements: dict[str, Any]) -> list[Entry]:
    full = [{"Effect": "Allow", "Action": "s3:GetObject", **s} for s in statements]
    policy = parse_policy({"Version": "2012-10-17", "Statement": full}, strict=False)
    return [Entry(s, policy.id, "identity", order) for order, s in enumerate(policy.statements)]


RESOURCES = [
    ("exact", "arn:aws:s3:::b/k", "arn:aws:s3:::b/k", True),
    ("exact-other", "arn:aws:s3:::b/k", "arn:aws:s3:::b/kk", False),
    ("prefix-star", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z", True),
    ("prefix-star-empty-rest", "arn:aws:s3:::b/*", "arn:aws:s3:::b/", True),
    ("prefix-star-other", "arn:aws:s3:::b/*", "arn:aws:s3:::c/x", False),
    ("prefix-star-shorter", "arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
    ("star-in-region", "arn:aws:ec2:*:1:instance/i", "arn:aws:ec2:us-east-1:1:instance/i", True),
    ("star-stays-in-region", "arn:aws:ec2:*:1:instance/i", "arn:aws:ec2:a:b:1:instance/i", False),
    ("trailing-star-in-service", "arn:aws:s3:*", "arn:aws:s3:x", True),
    ("trailing-star-stays-in-segment", "arn:aws:s3:*", "arn:aws:s3:x:y", False),
    ("question", "arn:aws:iam::12345678901?:role/r", "arn:aws:iam::123456789012:role/r", True),
    ("question-needs-one", "arn:aws:s3:::b/k?", "arn:aws:s3:::b/k", False),
    ("star-in-middle", "arn:aws:s3:::b/*/k", "arn:aws:s3:::b/x/y/k", True),
    ("star-in-middle-other", "arn:aws:s3:::b/*/k", "arn:aws:s3:::b/x/y/z", False),
]


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [c[1:] for c in RESOURCES],
    ids=[c[0] for c in RESOURCES],
)
@pytest.mark.parametrize("negated", [False, True], ids=["Resource", "NotResource"])
def test_the_mask_follows_the_resource_patterns(
    pattern: str, resource: str, expected: bool, negated: bool
) -> None:
    element = "NotResource" if negated else "Resource"
    table = ResourceTable(_entries({element: pattern}), {})
    assert bool(table.mask(resource) & 1) is (expected != negated)


def test_each_entry_has_its_own_bit() -> None:
    entries = _entries(
        {"Resource": "arn:aws:s3:::b/*"},
        {"Resource": "*"},
        {"Resource": ["arn:aws:s3:::b/k", "arn:aws:s3:::c/*"]},
        {"NotResource": "arn:aws:s3:::b/*"},
        {"Resource": "arn:aws:s3:::b/k?"},
    )
    table = ResourceTable(entries, {})
    assert table.mask("arn:aws:s3:::b/k") == 0b00111
    assert table.mask("arn:aws:s3:::b/k1") == 0b10011
    assert table.mask("arn:aws:s3:::c/k") == 0b01110
    assert table.mask("arn:aws:s3:::d") == 0b01010


def test_patterns_with_variables_are_left_to_the_request() -> None:
    entries = _entries(
        {"Resource": "arn:aws:s3:::b/${aws:username}/*"}, {"Resource": "arn:aws:s3:::b/*"}
    )
    plan = ActionPlan(entries, {})
    assert (plan.table.mask("arn:aws:s3:::b/alice/k"), plan.dynamic) == (0b10, 0b01)
    policy_set = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*",
        }
    )
    answers = [
        policy_set.evaluate(
            Request("s3:GetObject", "arn:aws:s3:::b/alice/k", {"aws:username": name})
        )
        for name in ("alice", "bob", "alice")
    ]
    assert [answer.allowed for answer in answers] == [True, False, True]


SEGMENT = st.text(alphabet="ab*?", min_size=0, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.lists(SEGMENT, min_size=1, max_size=7).map(":".join),
    resource=st.lists(st.text(alphabet="ab", max_size=4), min_size=1, max_size=7).map(":".join),
    negated=st.booleans(),
)
def test_the_mask_agrees_with_the_statement_matcher(
    pattern: str, resource: str, negated: bool
) -> None:
    (entry,) = _entries({"NotResource" if negated else "Resource": pattern})
    table = ResourceTable([entry], {})
    expected = entry.resources is None or entry.resources.matches(resource, {}, [])
    assert bool(table.mask(resource) & 1) is expected


def _policy(*statements: dict[str, Any]) -> PolicySet:
    return PolicySet([parse_policy({"Version": "2012-10-17", "Statement": list(statements)})])


def test_actions_with_the_same_candidates_share_one_plan() -> None:
    policy_set = _policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    )
    verdicts = [
        policy_set.evaluate(Request(action, "arn:aws:s3:::b/k")).effect
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
    ]
    assert verdicts == ["allowed", "allowed", "explicitDeny"]
    plans = policy_set._plans
    assert plans.get("s3:getobject") is plans.get("s3:putobject")
    assert plans.get("s3:getobject") is not plans.get("s3:deleteobject")
