"""Condition families, negation, `IfExists`, `Null`, set operators and unevaluable values."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.policy import Decision, PolicySet, Request, parse_policy


def _decide(condition: dict[str, Any], context: dict[str, Any], effect: str = "Allow") -> Decision:
    statements = [{"Effect": effect, "Action": "*", "Resource": "*", "Condition": condition}]
    if effect == "Deny":
        statements.append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    policy = parse_policy({"Version": "2012-10-17", "Statement": statements})
    return PolicySet([policy]).evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", context))


CASES = [
    ("string-equals", {"StringEquals": {"aws:username": "alice"}}, {"aws:username": "alice"}, True),
    (
        "string-equals-case",
        {"StringEquals": {"aws:username": "alice"}},
        {"aws:username": "Alice"},
        False,
    ),
    (
        "key-case-insensitive",
        {"StringEquals": {"AWS:USERNAME": "alice"}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "string-or-values",
        {"StringEquals": {"aws:username": ["bob", "alice"]}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "string-not-equals",
        {"StringNotEquals": {"aws:username": ["bob", "alice"]}},
        {"aws:username": "alice"},
        False,
    ),
    (
        "ignore-case",
        {"StringEqualsIgnoreCase": {"aws:username": "ALICE"}},
        {"aws:username": "alice"},
        True,
    ),
    ("like", {"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a/b"}, True),
    ("not-like", {"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "etc/x"}, True),
    (
        "string-variable",
        {"StringEquals": {"s3:prefix": "${aws:username}/"}},
        {"s3:prefix": "al/", "aws:username": "al"},
        True,
    ),
    ("like-escape-literal", {"StringLike": {"k": "a${*}"}}, {"k": "ab"}, False),
    ("numeric-lt", {"NumericLessThan": {"n": "10"}}, {"n": 9}, True),
    ("numeric-lt-string", {"NumericLessThan": {"n": 10}}, {"n": "10"}, False),
    ("numeric-not-equals", {"NumericNotEquals": {"n": [1, 2]}}, {"n": 3}, True),
    ("numeric-gte", {"NumericGreaterThanEquals": {"n": 2.5}}, {"n": 2.5}, True),
    (
        "date-lt-iso",
        {"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2025-12-31T23:59:59Z"},
        True,
    ),
    (
        "date-epoch",
        {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01"}},
        {"aws:CurrentTime": 1767225601},
        True,
    ),
    (
        "date-equals",
        {"DateEquals": {"t": "2026-01-01T00:00:00+01:00"}},
        {"t": "2025-12-31T23:00:00Z"},
        True,
    ),
    ("bool-true", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
    (
        "bool-string",
        {"Bool": {"aws:SecureTransport": True}},
        {"aws:SecureTransport": "FALSE"},
        False,
    ),
    ("binary", {"BinaryEquals": {"k": "aGVsbG8="}}, {"k": "aGVsbG8="}, True),
    ("ip-v4", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.2.3.4"}, True),
    (
        "ip-v6",
        {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
        {"aws:SourceIp": "2001:db8::1"},
        True,
    ),
    (
        "ip-version-mismatch",
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": "::1"},
        False,
    ),
    (
        "not-ip",
        {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.1"]}},
        {"aws:SourceIp": "192.168.0.1"},
        False,
    ),
    (
        "arn-like",
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"}},
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/admin-x"},
        True,
    ),
    (
        "arn-equals-segment",
        {"ArnEquals": {"a": "arn:aws:iam::*:role/x"}},
        {"a": "arn:aws:iam::1:2:role/x"},
        False,
    ),
    (
        "arn-not-like",
        {"ArnNotLike": {"a": "arn:aws:iam::*:role/x"}},
        {"a": "arn:aws:iam::1:role/y"},
        True,
    ),
    ("null-true-absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    (
        "null-true-present",
        {"Null": {"aws:TokenIssueTime": "true"}},
        {"aws:TokenIssueTime": "x"},
        False,
    ),
    (
        "null-false-present",
        {"Null": {"aws:TokenIssueTime": False}},
        {"aws:TokenIssueTime": "x"},
        True,
    ),
    ("absent-false", {"StringEquals": {"aws:username": "a"}}, {}, False),
    ("absent-negated-true", {"StringNotEquals": {"aws:username": "a"}}, {}, True),
    ("if-exists-absent", {"StringEqualsIfExists": {"aws:username": "a"}}, {}, True),
    (
        "if-exists-present",
        {"StringEqualsIfExists": {"aws:username": "a"}},
        {"aws:username": "b"},
        False,
    ),
    ("multi-any-value-matches", {"StringEquals": {"k": "a"}}, {"k": ["b", "a"]}, True),
    ("multi-negated-none-match", {"StringNotEquals": {"k": "a"}}, {"k": ["b", "a"]}, False),
    (
        "for-all-values",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
        {"aws:TagKeys": ["a", "b"]},
        True,
    ),
    (
        "for-all-values-extra",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ["a", "c"]},
        False,
    ),
    ("for-all-values-absent", {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),
    (
        "for-all-values-empty",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": []},
        True,
    ),
    (
        "for-any-value",
        {"ForAnyValue:StringLike": {"aws:TagKeys": "team*"}},
        {"aws:TagKeys": ["x", "team1"]},
        True,
    ),
    ("for-any-value-absent", {"ForAnyValue:StringLike": {"aws:TagKeys": "team*"}}, {}, False),
    ("for-any-value-negated", {"ForAnyValue:StringNotEquals": {"k": "a"}}, {"k": ["a", "b"]}, True),
    (
        "and-across-operators",
        {"StringEquals": {"a": "1"}, "Bool": {"b": "true"}},
        {"a": "1", "b": False},
        False,
    ),
    ("and-across-keys", {"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "2"}, True),
]


@pytest.mark.parametrize(
    ("condition", "context", "holds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_condition_operators(
    condition: dict[str, Any], context: dict[str, Any], holds: bool
) -> None:
    assert _decide(condition, context).allowed is holds


MISSING = [
    ("plain", {"StringEquals": {"aws:UserName": "a"}}, ("aws:UserName",)),
    ("if-exists-not-reported", {"StringEqualsIfExists": {"aws:username": "a"}}, ()),
    ("null-not-reported", {"Null": {"aws:username": "true"}}, ()),
    ("every-key-whatever-order", {"StringEquals": {"b": "1"}, "Bool": {"a": "true"}}, ("a", "b")),
]


@pytest.mark.parametrize(
    ("condition", "missing"), [c[1:] for c in MISSING], ids=[c[0] for c in MISSING]
)
def test_missing_context(condition: dict[str, Any], missing: tuple[str, ...]) -> None:
    assert _decide(condition, {"other": "x"}).missing_context == missing


UNEVALUABLE = [
    ("numeric-text", {"NumericEquals": {"n": "1"}}, {"n": "one"}),
    ("bool-number", {"Bool": {"b": "true"}}, {"b": 3}),
    ("ip-garbage", {"IpAddress": {"ip": "10.0.0.0/8"}}, {"ip": "ten"}),
    ("date-garbage", {"DateLessThan": {"t": "2026-01-01"}}, {"t": "soon"}),
    ("binary-garbage", {"BinaryEquals": {"b": "aGVsbG8="}}, {"b": "%%"}),
]


@pytest.mark.parametrize(
    ("condition", "context"), [c[1:] for c in UNEVALUABLE], ids=[c[0] for c in UNEVALUABLE]
)
def test_unevaluable_deny_is_reported_not_raised(
    condition: dict[str, Any], context: dict[str, Any]
) -> None:
    decision = _decide(condition, context, effect="Deny")
    assert decision.effect == "allowed"
    assert [m.index for m in decision.unevaluable_denies] == [0]
    assert not _decide(condition, context).allowed
