"""Strict and lenient parsing: each rule with its JSON path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.policy import PolicyError, parse_policy


def _doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
DENY = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}

STRICT_ERRORS = [
    ("not-object", [], "", "expected a JSON object"),
    ("missing-version", {"Statement": [ALLOW]}, "Version", "missing required field Version"),
    ("bad-version", {"Version": "2020-01-01", "Statement": [ALLOW]}, "Version", "unsupported"),
    ("unknown-top", _doc(ALLOW, Foo=1), "Foo", "unknown element"),
    ("empty-statements", _doc(), "Statement", "at least one statement"),
    ("statement-not-object", _doc("x"), "Statement[0]", "expected an object, got string"),  # type: ignore[arg-type]
    ("unknown-element", _doc({**ALLOW, "Bar": 1}), "Statement[0].Bar", "unknown element"),
    ("bad-sid", _doc({**ALLOW, "Sid": "a b"}), "Statement[0].Sid", "letters and digits"),
    (
        "duplicate-sid",
        _doc({**ALLOW, "Sid": "A"}, {**DENY, "Sid": "A"}),
        "Statement[1].Sid",
        "duplicate",
    ),
    (
        "lowercase-effect",
        _doc({**ALLOW, "Effect": "allow"}),
        "Statement[0].Effect",
        "invalid effect",
    ),
    (
        "no-action",
        _doc({"Effect": "Allow", "Resource": "*"}),
        "Statement[0]",
        "missing required field Action",
    ),
    (
        "both-actions",
        _doc({**ALLOW, "NotAction": "s3:*"}),
        "Statement[0]",
        "has both Action and NotAction",
    ),
    (
        "action-type",
        _doc({**ALLOW, "Action": ["s3:Get", 3]}),
        "Statement[0].Action[1]",
        "expected a string, got number",
    ),
    (
        "action-shape",
        _doc({**ALLOW, "Action": "GetObject"}),
        "Statement[0].Action",
        "invalid action",
    ),
    (
        "resource-shape",
        _doc({**ALLOW, "Resource": "arn:aws:s3"}),
        "Statement[0].Resource",
        "six parts",
    ),
    (
        "bad-variable",
        _doc({**ALLOW, "Resource": "arn:aws:s3:::b/${}"}),
        "Statement[0].Resource",
        "policy variable",
    ),
    (
        "no-resource",
        _doc({"Effect": "Allow", "Action": "s3:*"}),
        "Statement[0]",
        "missing required field Resource",
    ),
    (
        "principal-in-identity",
        _doc({**ALLOW, "Principal": "*"}),
        "Statement[0].Principal",
        "has prohibited field Principal",
    ),
    (
        "unknown-operator",
        _doc({**ALLOW, "Condition": {"StringEqualz": {"aws:username": "a"}}}),
        "Statement[0].Condition.StringEqualz",
        "unknown condition operator",
    ),
    (
        "bad-cidr",
        _doc({**ALLOW, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}),
        "Statement[0].Condition.IpAddress.aws:SourceIp",
        "CIDR",
    ),
    (
        "bad-number",
        _doc({**ALLOW, "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}),
        "Statement[0].Condition.NumericLessThan.s3:max-keys",
        "expected a number",
    ),
    (
        "bad-date",
        _doc({**ALLOW, "Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}}),
        "Statement[0].Condition.DateLessThan.aws:CurrentTime",
        "ISO 8601",
    ),
    (
        "bad-bool",
        _doc({**ALLOW, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}),
        "Statement[0].Condition.Bool.aws:SecureTransport",
        "`true` or `false`",
    ),
    (
        "bad-base64",
        _doc({**ALLOW, "Condition": {"BinaryEquals": {"k": "not base64!"}}}),
        "Statement[0].Condition.BinaryEquals.k",
        "base64",
    ),
    (
        "null-if-exists",
        _doc({**ALLOW, "Condition": {"NullIfExists": {"k": "true"}}}),
        "Statement[0].Condition.NullIfExists",
        "unknown condition operator",
    ),
]


@pytest.mark.parametrize(
    ("doc", "path", "message"), [c[1:] for c in STRICT_ERRORS], ids=[c[0] for c in STRICT_ERRORS]
)
def test_strict_errors_name_the_path(doc: Any, path: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(json.dumps(doc))
    assert caught.value.path == path
    assert message in caught.value.message
    assert str(caught.value) == (
        f"{path}: {caught.value.message}" if path else caught.value.message
    )


KIND_ERRORS = [
    (
        "trust-resource",
        "trust",
        {**ALLOW, "Principal": "*"},
        "Statement[0].Resource",
        "has prohibited field Resource",
    ),
    (
        "trust-no-principal",
        "trust",
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
        "Statement[0]",
        "missing required field Principal",
    ),
    (
        "resource-no-principal",
        "resource",
        ALLOW,
        "Statement[0]",
        "missing required field Principal",
    ),
    (
        "resource-no-resource",
        "resource",
        {"Effect": "Allow", "Action": "s3:*", "Principal": "*"},
        "Statement[0]",
        "missing required field Resource",
    ),
    (
        "bad-principal-type",
        "trust",
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"User": "x"}},
        "Statement[0].Principal.User",
        "unknown principal type",
    ),
]


@pytest.mark.parametrize(
    ("kind", "statement", "path", "message"),
    [c[1:] for c in KIND_ERRORS],
    ids=[c[0] for c in KIND_ERRORS],
)
def test_kind_rules(kind: str, statement: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(_doc(statement), kind=kind)
    assert (caught.value.path, message in caught.value.message) == (path, True)


def test_size_limit_counts_characters_without_whitespace() -> None:
    padding = "a" * 131072
    with pytest.raises(PolicyError, match="at most 131072"):
        parse_policy(_doc({**ALLOW, "Sid": padding}))
    spaced = json.dumps(_doc(ALLOW), indent=4) + " " * 200000
    assert parse_policy(spaced).statements[0].effect == "Allow"


def test_duplicate_json_keys_are_rejected_strictly_only() -> None:
    text = '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}'
    with pytest.raises(PolicyError, match="duplicate key `Version`"):
        parse_policy(text)
    assert parse_policy(text, strict=False).statements == ()


LENIENT = [
    ("missing-version-is-2008", {"Statement": [ALLOW]}, 1, "2008-10-17"),
    (
        "unknown-elements-ignored",
        {"Version": "2012-10-17", "Foo": 1, "Statement": [{**ALLOW, "Bar": 2}]},
        1,
        "2012-10-17",
    ),
    (
        "bad-allow-dropped",
        _doc({**ALLOW, "Condition": {"Nope": {"k": "v"}}}, DENY),
        1,
        "2012-10-17",
    ),
    ("lowercase-allow-dropped", _doc({**ALLOW, "Effect": "allow"}), 0, "2012-10-17"),
    ("lowercase-deny-kept", _doc({**DENY, "Effect": "deny"}), 1, "2012-10-17"),
    ("empty-list", _doc(), 0, "2012-10-17"),
]


@pytest.mark.parametrize(
    ("doc", "count", "version"), [c[1:] for c in LENIENT], ids=[c[0] for c in LENIENT]
)
def test_lenient_loading(doc: dict[str, Any], count: int, version: str) -> None:
    policy = parse_policy(doc, strict=False)
    assert (len(policy.statements), policy.version) == (count, version)


@pytest.mark.parametrize(
    "deny",
    [
        {**DENY, "Condition": {"Nope": {"k": "v"}}},
        {"Effect": "Deny", "Resource": "*"},
        {**DENY, "Effect": "DENY!"},
    ],
    ids=["unknown-operator", "no-action", "unknown-effect"],
)
def test_lenient_unparseable_deny_fails_the_policy(deny: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        parse_policy(_doc(ALLOW, deny), strict=False)


@pytest.mark.parametrize(
    ("doc", "policy_id", "expected_prefix"),
    [
        (_doc(ALLOW, Id="mine"), None, "mine"),
        (_doc(ALLOW), "given", "given"),
        (_doc(ALLOW), None, "policy-"),
    ],
    ids=["document-id", "argument", "digest"],
)
def test_policy_id(doc: dict[str, Any], policy_id: str | None, expected_prefix: str) -> None:
    parsed = parse_policy(doc, policy_id=policy_id)
    assert parsed.id.startswith(expected_prefix)
    if expected_prefix == "policy-":
        assert len(parsed.id) == len("policy-") + 12
        assert parsed.id == parse_policy(json.dumps(doc, indent=2)).id


def test_single_statement_object_and_parsed_elements() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": {**ALLOW, "Sid": "One"}})
    (statement,) = policy.statements
    assert (statement.sid, statement.index, statement.effect, statement.action) == (
        "One",
        0,
        "Allow",
        ("s3:GetObject",),
    )
