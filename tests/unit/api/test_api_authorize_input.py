"""The `/v1/authorize` body read into the judge's dataclasses; faults name the JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bridge.api.authorize_input import EMPTY_SHA256, parse_body
from bridge.authz.judge import BearerSubject, Question, SigV4Subject
from bridge.errors import InvalidInput

ITEM = "arn:aws:items:eu-west-1:123456789012:item/1"
HEADERS = {"Host": "svc.internal", "X-Amz-Date": "20261128T000000Z", "Authorization": "AWS4…"}
SIGV4 = {"method": "GET", "path": "/items/1", "query": "a=b", "headers": HEADERS}
SINGLE: dict[str, Any] = {
    "caller": {"bearer": "BRG1.token"},
    "action": "items:GetItem",
    "resource": ITEM,
    "context": {"aws:SourceIp": "10.0.0.1", "items:Color": ["red"], "items:Size": 3},
}


def changed(**fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(SINGLE)
    for name, value in fields.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def batch(*requests: Any) -> dict[str, Any]:
    return {"caller": {"sigv4": SIGV4}, "requests": list(requests)}


def test_single_form_with_a_bearer_token() -> None:
    parsed = parse_body(SINGLE)
    assert parsed.subject == BearerSubject("BRG1.token")
    assert parsed.questions == (Question("items:GetItem", ITEM, SINGLE["context"]),)
    assert not parsed.batch


def test_batch_form_with_sigv4_parts_defaults_the_body_hash_to_the_empty_body() -> None:
    parsed = parse_body(batch({"action": "items:GetItem", "resource": ITEM}, {
        "action": "items:PutItem", "resource": "*", "context": None}))  # fmt: skip
    assert parsed.batch and [q.action for q in parsed.questions] == [
        "items:GetItem",
        "items:PutItem",
    ]
    assert isinstance(parsed.subject, SigV4Subject)
    request = parsed.subject.request
    assert (request.method, request.path, request.query, request.payload_sha256) == (
        "GET",
        "/items/1",
        "a=b",
        EMPTY_SHA256,
    )
    assert request.header("x-amz-date") == "20261128T000000Z"


def test_the_body_hash_is_kept_in_lower_case() -> None:
    body = {**SINGLE, "caller": {"sigv4": {**SIGV4, "body_sha256": "AB" * 32}}}
    subject = parse_body(body).subject
    assert isinstance(subject, SigV4Subject) and subject.request.payload_sha256 == "ab" * 32


GOOD = {"action": "items:GetItem", "resource": ITEM}


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        pytest.param([], "body", "not a list", id="not-an-object"),
        pytest.param(changed(caller=None), "caller", "null", id="no-caller"),
        pytest.param(changed(caller={}), "caller", "exactly one", id="empty-caller"),
        pytest.param(
            changed(caller={"bearer": "x", "sigv4": SIGV4}), "caller", "exactly one", id="both"
        ),
        pytest.param(changed(caller={"bearer": 5}), "caller.bearer", "a number", id="bearer-type"),
        pytest.param(changed(caller={"bearer": ""}), "caller.bearer", "1 to", id="bearer-empty"),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "method": "get"}}),
            "caller.sigv4.method", "upper-case", id="method-case",
        ),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "path": "items"}}),
            "caller.sigv4.path", "start with", id="relative-path",
        ),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "body_sha256": "abc"}}),
            "caller.sigv4.body_sha256", "64 hexadecimal", id="short-hash",
        ),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "headers": {"Host": 1}}}),
            "caller.sigv4.headers.Host", "a number", id="header-type",
        ),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "headers": {}}}),
            "caller.sigv4.headers", "at least", id="no-headers",
        ),
        pytest.param(
            changed(caller={"sigv4": {**SIGV4, "body": "x"}}),
            "caller.sigv4.body", "not a known field", id="sigv4-unknown-field",
        ),
        pytest.param(changed(action=None), "action", "required", id="no-action"),
        pytest.param(changed(action="GetItem"), "action", "service:Action", id="action-form"),
        pytest.param(changed(resource=""), "resource", "1 to", id="empty-resource"),
        pytest.param(changed(resource=["x"]), "resource", "a list", id="resource-type"),
        pytest.param(changed(extra=1), "extra", "not a known field", id="unknown-field"),
        pytest.param(changed(context=[]), "context", "JSON object", id="context-type"),
        pytest.param(
            changed(context={"items:Color": {"a": 1}}), "context.items:Color", "an object",
            id="context-value-object",
        ),
        pytest.param(
            changed(context={"items:Color": []}), "context.items:Color", "1 to 100",
            id="context-empty-list",
        ),
        pytest.param(
            changed(context={"aws:PrincipalArn": "arn:aws:iam::1:root"}),
            "context.aws:PrincipalArn", "set by the bridge", id="principal-key",
        ),
        pytest.param(
            changed(context={"AWS:principaltag/team": "red"}),
            "context.AWS:principaltag/team", "set by the bridge", id="principal-tag-any-case",
        ),
        pytest.param(
            changed(context={"aws:MultiFactorAuthPresent": "true"}),
            "context.aws:MultiFactorAuthPresent", "set by the bridge", id="mfa-key",
        ),
        pytest.param(batch(), "requests", "1 to 100", id="empty-batch"),
        pytest.param(batch(*[GOOD] * 101), "requests", "1 to 100", id="batch-too-long"),
        pytest.param(
            {**batch(GOOD), "action": "items:GetItem"}, "action", "not a known field",
            id="batch-and-single",
        ),
        pytest.param(
            batch(GOOD, GOOD, GOOD, {"action": "nope", "resource": ITEM}),
            "requests[3].action", "service:Action", id="batch-item-action",
        ),
        pytest.param(batch(GOOD, "x"), "requests[1]", "a string", id="batch-item-type"),
        pytest.param(
            batch({**GOOD, "caller": {}}), "requests[0].caller", "not a known field",
            id="batch-item-caller",
        ),
    ],
)  # fmt: skip
def test_a_malformed_body_names_the_field(body: object, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(body)
    assert caught.value.field == field
    assert fragment in caught.value.detail
