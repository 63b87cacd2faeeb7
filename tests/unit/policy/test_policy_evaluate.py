"""Evaluation across identity, boundary, session and resource policies; principals; caches."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.policy import Policy, PolicySet, Principal, Request, evaluate, parse_policy
from bridge.policy.evaluate import CacheKey, PolicySetCache, policy_set_cache_info

READ = Request("s3:GetObject", "arn:aws:s3:::b/k")
ALICE = Principal("arn:aws:iam::123456789012:user/alice")


def _policy(effect: str, action: str, pid: str, kind: str = "identity", **extra: Any) -> Policy:
    statement: dict[str, Any] = {"Effect": effect, "Action": action, **extra}
    if kind != "trust":
        statement.setdefault("Resource", "*")
    return parse_policy(
        {"Version": "2012-10-17", "Statement": [statement]}, kind=kind, policy_id=pid
    )


ALLOW_S3 = _policy("Allow", "s3:*", "allow-s3")
ALLOW_ALL = _policy("Allow", "*", "allow-all")
DENY_S3 = _policy("Deny", "s3:GetObject", "deny-s3")
ALLOW_EC2 = _policy("Allow", "ec2:*", "allow-ec2")
RESOURCE_ALICE = _policy(
    "Allow", "s3:GetObject", "bucket", "resource", Principal={"AWS": ALICE.arn}
)

SETS = [
    ("no-policies", [], {}, "implicitDeny", []),
    ("identity-allow", [ALLOW_S3], {}, "allowed", ["allow-s3"]),
    ("deny-wins", [ALLOW_S3, DENY_S3], {}, "explicitDeny", ["deny-s3"]),
    ("deny-in-boundary", [ALLOW_S3], {"boundary": [DENY_S3]}, "explicitDeny", ["deny-s3"]),
    (
        "boundary-allows",
        [ALLOW_S3],
        {"boundary": [ALLOW_ALL]},
        "allowed",
        ["allow-s3", "allow-all"],
    ),
    ("boundary-cuts-off", [ALLOW_S3], {"boundary": [ALLOW_EC2]}, "implicitDeny", ["allow-s3"]),
    ("session-cuts-off", [ALLOW_S3], {"session": [ALLOW_EC2]}, "implicitDeny", ["allow-s3"]),
    (
        "session-union",
        [ALLOW_S3],
        {"session": [ALLOW_EC2, ALLOW_ALL]},
        "allowed",
        ["allow-s3", "allow-all"],
    ),
    ("empty-session-is-absent", [ALLOW_S3], {"session": []}, "allowed", ["allow-s3"]),
    ("resource-grants", [], {"resource": RESOURCE_ALICE}, "allowed", ["bucket"]),
    (
        "resource-and-boundary",
        [],
        {"resource": RESOURCE_ALICE, "boundary": [ALLOW_EC2]},
        "implicitDeny",
        ["bucket"],
    ),
    ("boundary-alone-grants-nothing", [], {"boundary": [ALLOW_ALL]}, "implicitDeny", []),
]


@pytest.mark.parametrize(
    ("identity", "others", "effect", "policy_ids"), [c[1:] for c in SETS], ids=[c[0] for c in SETS]
)
def test_policy_types(
    identity: list[Policy], others: dict[str, Any], effect: str, policy_ids: list[str]
) -> None:
    decision = PolicySet(identity, **others).evaluate(READ, ALICE)
    assert decision.effect == effect
    assert [m.policy_id for m in decision.matched] == policy_ids
    assert decision.allowed is (effect == "allowed")


def test_matched_statement_fields() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Other", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
            ],
        },
        policy_id="p",
    )
    (matched,) = PolicySet([policy]).evaluate(READ).matched
    assert (matched.policy_id, matched.policy_kind, matched.index, matched.sid, matched.effect) == (
        "p",
        "identity",
        1,
        "Read",
        "Allow",
    )


PRINCIPALS = [
    ("star", "*", ALICE, True),
    ("aws-star", {"AWS": "*"}, None, True),
    ("account-id", {"AWS": "123456789012"}, ALICE, True),
    ("account-root", {"AWS": "arn:aws:iam::123456789012:root"}, ALICE, True),
    ("other-account", {"AWS": "210987654321"}, ALICE, False),
    ("exact-arn", {"AWS": ALICE.arn}, ALICE, True),
    ("other-user", {"AWS": "arn:aws:iam::123456789012:user/bob"}, ALICE, False),
    (
        "role-session",
        {"AWS": "arn:aws:iam::123456789012:role/path/R"},
        Principal("arn:aws:sts::123456789012:assumed-role/R/s"),
        True,
    ),
    (
        "session-arn",
        {"AWS": "arn:aws:sts::123456789012:assumed-role/R/s"},
        Principal("arn:aws:sts::123456789012:assumed-role/R/s"),
        True,
    ),
    (
        "federated",
        {"Federated": "accounts.google.com"},
        Principal("x", federated="accounts.google.com"),
        True,
    ),
    (
        "federated-other",
        {"Federated": "arn:aws:iam::1:saml-provider/A"},
        Principal("x", federated="accounts.google.com"),
        False,
    ),
    (
        "service",
        {"Service": "ec2.amazonaws.com"},
        Principal("x", service="ec2.amazonaws.com"),
        True,
    ),
    ("anonymous", {"AWS": "123456789012"}, None, False),
]


@pytest.mark.parametrize(
    ("element", "principal", "matches"), [c[1:] for c in PRINCIPALS], ids=[c[0] for c in PRINCIPALS]
)
def test_trust_principals(element: Any, principal: Principal | None, matches: bool) -> None:
    trust = _policy("Allow", "sts:AssumeRole", "trust", "trust", Principal=element)
    decision = PolicySet([], resource=trust).evaluate(
        Request("sts:AssumeRole", "arn:aws:iam::1:role/R"), principal
    )
    assert decision.allowed is matches


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [(ALICE, False), (Principal("arn:aws:iam::123456789012:user/bob"), True)],
    ids=["listed", "other"],
)
def test_not_principal(principal: Principal, allowed: bool) -> None:
    trust = _policy("Allow", "sts:AssumeRole", "trust", "trust", NotPrincipal={"AWS": ALICE.arn})
    assert (
        PolicySet([], resource=trust).evaluate(Request("sts:AssumeRole", "r"), principal).allowed
        is allowed
    )


def test_evaluate_reuses_compiled_sets_for_equal_policies() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
    }
    request = Request("kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k")
    before = policy_set_cache_info()
    first = evaluate(request, [parse_policy(doc)])
    second = evaluate(request, [parse_policy(dict(doc))])
    after = policy_set_cache_info()
    assert first == second
    assert first.allowed
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


def test_repeated_requests_give_equal_decisions_with_context() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:username": "a"}},
                },
            ],
        }
    )
    policy_set = PolicySet([policy])
    answers = [
        policy_set.evaluate(Request("s3:GetObject", "r", {"aws:username": name})).allowed
        for name in "abab"
    ]
    assert answers == [True, False, True, False]
    assert (
        policy_set.evaluate(Request("s3:GetObject", "r", {"aws:username": True})).allowed is False
    )


def test_context_values_of_other_types_are_decided_without_the_memo() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"k": "a"}},
                },
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            ],
        }
    )
    decision = PolicySet([policy]).evaluate(Request("s3:GetObject", "r", {"k": {"nested": 1}}))
    assert (decision.effect, len(decision.unevaluable_denies)) == ("allowed", 1)


def _cache_key(*identity: Policy) -> CacheKey:
    return (identity, (), (), None)


def test_the_policy_set_cache_drops_the_least_recently_used_set() -> None:
    cache = PolicySetCache(maxsize=2)
    first = cache.policy_set(_cache_key(ALLOW_S3))
    cache.policy_set(_cache_key(ALLOW_EC2))
    assert cache.policy_set(_cache_key(ALLOW_S3)) is first  # now the most recently used
    cache.policy_set(_cache_key(DENY_S3))  # drops ALLOW_EC2's set
    assert cache.policy_set(_cache_key(ALLOW_S3)) is first
    cache.policy_set(_cache_key(ALLOW_EC2))
    info = cache.info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (2, 4, 2, 2)


def test_the_policy_set_cache_compiles_what_it_is_given() -> None:
    cache = PolicySetCache(maxsize=4)
    key: CacheKey = ((ALLOW_S3,), (ALLOW_EC2,), (), RESOURCE_ALICE)
    policy_set = cache.policy_set(key)
    assert (policy_set.identity, policy_set.boundary, policy_set.resource) == key[:2] + key[3:]
    assert not policy_set.evaluate(READ).allowed  # the boundary does not allow s3
    cache.clear()
    assert cache.info() == (0, 0, 4, 0)
