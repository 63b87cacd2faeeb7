"""Action and resource wildcards, `NotAction`/`NotResource`, policy variables and escapes."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.policy import PolicySet, Request, parse_policy


def _allowed(statement: dict[str, Any], request: Request, version: str = "2012-10-17") -> bool:
    policy = parse_policy({"Version": version, "Statement": [{"Effect": "Allow", **statement}]})
    return PolicySet([policy]).evaluate(request).allowed


ACTIONS = [
    ("exact", "s3:GetObject", "s3:GetObject", True),
    ("case-insensitive", "S3:getobject", "s3:GetObject", True),
    ("star", "iam:Get*", "iam:GetUser", True),
    ("star-other-service", "iam:Get*", "s3:GetObject", False),
    ("question", "s3:*Object?", "s3:GetObjects", True),
    ("question-needs-one", "s3:*Object?", "s3:GetObject", False),
    ("everything", "*", "ec2:RunInstances", True),
]


@pytest.mark.parametrize(
    ("pattern", "action", "expected"), [c[1:] for c in ACTIONS], ids=[c[0] for c in ACTIONS]
)
def test_action_patterns(pattern: str, action: str, expected: bool) -> None:
    request = Request(action, "arn:aws:s3:::b")
    assert _allowed({"Action": pattern, "Resource": "*"}, request) is expected


RESOURCES = [
    ("exact", "arn:aws:s3:::b/k", "arn:aws:s3:::b/k", True),
    ("case-sensitive", "arn:aws:s3:::B/k", "arn:aws:s3:::b/k", False),
    ("star-crosses-slash", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z", True),
    ("star-in-resource-crosses-colon", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y", True),
    (
        "star-stays-in-region",
        "arn:aws:ec2:*:123456789012:instance/i",
        "arn:aws:ec2:a:b:123456789012:instance/i",
        False,
    ),
    ("star-in-account", "arn:aws:iam::*:role/r", "arn:aws:iam::123456789012:role/r", True),
    (
        "question-in-segment",
        "arn:aws:iam::12345678901?:role/r",
        "arn:aws:iam::123456789012:role/r",
        True,
    ),
    ("star-alone", "*", "anything:at:all", True),
]


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"), [c[1:] for c in RESOURCES], ids=[c[0] for c in RESOURCES]
)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    assert (
        _allowed({"Action": "*", "Resource": pattern}, Request("s3:GetObject", resource))
        is expected
    )


NEGATIONS = [
    (
        "not-action-other",
        {"NotAction": "iam:*", "Resource": "*"},
        "s3:GetObject",
        "arn:aws:s3:::b",
        True,
    ),
    (
        "not-action-listed",
        {"NotAction": "iam:*", "Resource": "*"},
        "iam:GetUser",
        "arn:aws:s3:::b",
        False,
    ),
    (
        "not-resource-other",
        {"Action": "*", "NotResource": "arn:aws:s3:::secret/*"},
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        True,
    ),
    (
        "not-resource-listed",
        {"Action": "*", "NotResource": "arn:aws:s3:::secret/*"},
        "s3:GetObject",
        "arn:aws:s3:::secret/k",
        False,
    ),
]


@pytest.mark.parametrize(
    ("statement", "action", "resource", "expected"),
    [c[1:] for c in NEGATIONS],
    ids=[c[0] for c in NEGATIONS],
)
def test_not_elements(
    statement: dict[str, Any], action: str, resource: str, expected: bool
) -> None:
    assert _allowed(statement, Request(action, resource)) is expected


VARIABLES = [
    (
        "substituted",
        "arn:aws:s3:::b/${aws:username}/*",
        "arn:aws:s3:::b/alice/k",
        {"aws:username": "alice"},
        True,
    ),
    (
        "other-user",
        "arn:aws:s3:::b/${aws:username}/*",
        "arn:aws:s3:::b/bob/k",
        {"aws:username": "alice"},
        False,
    ),
    (
        "key-case-insensitive",
        "arn:aws:s3:::b/${AWS:UserName}",
        "arn:aws:s3:::b/alice",
        {"aws:username": "alice"},
        True,
    ),
    (
        "tag",
        "arn:aws:s3:::b/${aws:PrincipalTag/team}",
        "arn:aws:s3:::b/red",
        {"aws:PrincipalTag/team": "red"},
        True,
    ),
    ("missing", "arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/", {}, False),
    (
        "default",
        "arn:aws:s3:::b/${aws:username, 'anonymous'}",
        "arn:aws:s3:::b/anonymous",
        {},
        True,
    ),
    (
        "value-is-literal",
        "arn:aws:s3:::b/${aws:username}",
        "arn:aws:s3:::b/anything",
        {"aws:username": "*"},
        False,
    ),
    ("escape-star-literal", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", {}, True),
    ("escape-star-not-wildcard", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", {}, False),
    ("escape-dollar", "arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", {}, True),
    (
        "multi-valued-not-substituted",
        "arn:aws:s3:::b/${aws:username}",
        "arn:aws:s3:::b/a",
        {"aws:username": ["a"]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "resource", "context", "expected"),
    [c[1:] for c in VARIABLES],
    ids=[c[0] for c in VARIABLES],
)
def test_variables(pattern: str, resource: str, context: dict[str, Any], expected: bool) -> None:
    request = Request("s3:GetObject", resource, context)
    assert _allowed({"Action": "*", "Resource": pattern}, request) is expected


def test_missing_variable_is_reported() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:username}"}
            ],
        }
    )
    decision = PolicySet([policy]).evaluate(Request("s3:GetObject", "arn:aws:s3:::b/x", {"k": "v"}))
    assert (decision.effect, decision.missing_context) == ("implicitDeny", ("aws:username",))


def test_version_2008_keeps_variables_literal() -> None:
    literal = "arn:aws:s3:::b/${aws:username}"
    statement = {"Action": "*", "Resource": literal}
    context = {"aws:username": "alice"}
    assert _allowed(statement, Request("s3:GetObject", literal, context), "2008-10-17")
    assert not _allowed(
        statement, Request("s3:GetObject", "arn:aws:s3:::b/alice", context), "2008-10-17"
    )
