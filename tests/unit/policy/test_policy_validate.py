"""`validate()`: syntax errors as findings and the analyzer checks."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.policy import validate


def _doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


S3 = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}

FINDINGS = [
    ("clean", _doc(S3), "identity", []),
    (
        "syntax",
        _doc({**S3, "Effect": "allow"}),
        "identity",
        [("error", "invalid-policy", "Statement[0].Effect")],
    ),
    (
        "unknown-operator",
        _doc({**S3, "Condition": {"StringEqualz": {"a": "b"}}}),
        "identity",
        [("error", "unknown-condition-operator", "Statement[0].Condition.StringEqualz")],
    ),
    (
        "not-action",
        _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}),
        "identity",
        [("warning", "allow-with-not-action", "Statement[0].NotAction")],
    ),
    (
        "not-resource",
        _doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b"}),
        "identity",
        [("warning", "allow-with-not-resource", "Statement[0].NotResource")],
    ),
    (
        "deny-not-action-fine",
        _doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        [],
    ),
    (
        "full-access",
        _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        "identity",
        [("warning", "full-access", "Statement[0]")],
    ),
    (
        "admin-full-access",
        _doc({"Sid": "AdminAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}),
        "identity",
        [],
    ),
    (
        "saml-key-in-identity",
        _doc({**S3, "Condition": {"StringEquals": {"saml:sub": "x"}}}),
        "identity",
        [
            (
                "warning",
                "condition-key-never-present",
                "Statement[0].Condition.StringEquals.saml:sub",
            )
        ],
    ),
    (
        "saml-key-in-trust",
        _doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithSAML",
                "Principal": {"Federated": "arn:aws:iam::1:saml-provider/x"},
                "Condition": {"StringEquals": {"saml:sub": "x"}},
            }
        ),
        "trust",
        [],
    ),
    (
        "redundant",
        _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, S3),
        "identity",
        [("suggestion", "redundant-statement", "Statement[1]")],
    ),
    (
        "duplicate-reported-once",
        _doc(S3, {**S3}),
        "identity",
        [("suggestion", "redundant-statement", "Statement[1]")],
    ),
    ("different-effects", _doc(S3, {**S3, "Effect": "Deny"}), "identity", []),
    (
        "conditions-not-redundant",
        _doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {**S3, "Condition": {"Bool": {"a": "true"}}},
        ),
        "identity",
        [],
    ),
]


@pytest.mark.parametrize(
    ("doc", "kind", "expected"), [c[1:] for c in FINDINGS], ids=[c[0] for c in FINDINGS]
)
def test_findings(doc: dict[str, Any], kind: str, expected: list[tuple[str, str, str]]) -> None:
    findings = validate(doc, kind=kind)
    assert [(f.severity, f.code, f.path) for f in findings] == expected
    assert all(
        f.message and f.message[0].islower() and not f.message.endswith(".") for f in findings
    )


def test_invalid_json_is_a_finding() -> None:
    (finding,) = validate("{not json")
    assert (finding.severity, finding.path) == ("error", "")
    assert "invalid JSON" in finding.message
