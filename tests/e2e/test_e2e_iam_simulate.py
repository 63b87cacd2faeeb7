"""IAM policy simulation through boto3 against a live bridge (SQLite and PostgreSQL).

`SimulateCustomPolicy` must agree with the policy engine's documented corpus
(`tests/data/policy_corpus`): identity policies become `PolicyInputList`, the boundary
`PermissionsBoundaryPolicyInputList`, the request context typed `ContextEntries`.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.live import LiveBridge

CORPUS = Path(__file__).resolve().parents[1] / "data" / "policy_corpus"
SKIPPED_FILES = {"parse_errors.json", "resource_policies.json", "trust_principals.json"}
MINIMUM_CASES = 40


def _scalar_type(key: str, value: object) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "numeric"
    if not isinstance(value, str):
        return None
    if key.lower() == "aws:sourceip" and _parses(ipaddress.ip_address, value):
        return "ip"
    if "time" in key.lower() and _parses(datetime.fromisoformat, value):
        return "date"
    if key.startswith("custom:blob") and _parses(
        lambda v: base64.b64decode(v, validate=True), value
    ):
        return "binary"
    return "string"


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except (ValueError, binascii.Error):
        return False
    return True


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _context_entry(key: str, value: object) -> dict[str, Any] | None:
    """A corpus context value as a typed `ContextEntries` item, or None when not expressible."""
    if len(key) < 5:
        return None
    values = value if isinstance(value, list) else [value]
    kinds = {_scalar_type(key, item) for item in values}
    if len(kinds) != 1 or None in kinds or not values:
        return None
    kind = str(kinds.pop())
    return {
        "ContextKeyName": key,
        "ContextKeyValues": [_wire(item) for item in values],
        "ContextKeyType": f"{kind}List" if isinstance(value, list) else kind,
    }


def _simulation_case(case: dict[str, Any]) -> dict[str, Any] | None:
    """The SimulateCustomPolicy arguments for a corpus case, or None when it has no form."""
    if case.get("session") or case.get("resource") or not case.get("identity"):
        return None
    if any(entry.get("strict") is False for entry in case["identity"]):
        return None
    entries = [_context_entry(k, v) for k, v in case["request"]["context"].items()]
    if any(entry is None for entry in entries):
        return None
    kwargs: dict[str, Any] = {
        "PolicyInputList": [json.dumps(entry["document"]) for entry in case["identity"]],
        "ActionNames": [case["request"]["action"]],
        "ContextEntries": entries,
    }
    if case.get("boundary"):
        kwargs["PermissionsBoundaryPolicyInputList"] = [json.dumps(case["boundary"]["document"])]
    if case["request"]["resource"] != "*":
        kwargs["ResourceArns"] = [case["request"]["resource"]]
    return kwargs


def _load() -> list[Any]:
    params = []
    for path in sorted(CORPUS.glob("*.json")):
        if path.name in SKIPPED_FILES:
            continue
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            kwargs = _simulation_case(case)
            if kwargs is not None and "xfail" not in case:
                params.append(pytest.param(case, kwargs, id=f"{path.stem}/{case['name']}"))
    return params


CASES = _load()


def _expected_statements(case: dict[str, Any], kwargs: dict[str, Any]) -> Counter[tuple[Any, ...]]:
    """Each expected (policy id, index) as IAM shows it: id and 1-based line/column span."""
    texts = {
        entry["id"]: (f"PolicyInputList.{n}", kwargs["PolicyInputList"][n - 1], entry["document"])
        for n, entry in enumerate(case["identity"], start=1)
    }
    if case.get("boundary"):
        boundary = case["boundary"]
        texts[boundary["id"]] = (
            "PermissionsBoundaryPolicyInputList.1",
            kwargs["PermissionsBoundaryPolicyInputList"][0],
            boundary["document"],
        )
    shown: Counter[tuple[Any, ...]] = Counter()
    for policy_id, index in case["expect"]["matched"]:
        name, text, document = texts[policy_id]
        statements = document["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        start = 0
        for statement in statements[: index + 1]:
            start = text.index(json.dumps(statement), start)
            end = start + len(json.dumps(statement))
            if statement is not statements[index]:
                start = end
        shown[(name, 1, start + 1, 1, end + 1)] += 1
    return shown


def _shown(result: dict[str, Any]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            m["SourcePolicyId"],
            m["StartPosition"]["Line"],
            m["StartPosition"]["Column"],
            m["EndPosition"]["Line"],
            m["EndPosition"]["Column"],
        )
        for m in result["MatchedStatements"]
    )


def test_corpus_sample_is_large_enough() -> None:
    files = {str(case.id).split("/", 1)[0] for case in CASES}
    assert len(CASES) >= MINIMUM_CASES
    assert len(files) > 5


@pytest.mark.parametrize(("case", "kwargs"), CASES)
def test_custom_policy_agrees_with_the_corpus(
    bridge: LiveBridge, case: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    results = bridge.client("iam").simulate_custom_policy(**kwargs)["EvaluationResults"]
    assert len(results) == 1
    result, expect = results[0], case["expect"]
    assert result["EvalDecision"] == expect["effect"]
    assert result["EvalActionName"] == kwargs["ActionNames"][0]
    assert result["EvalResourceName"] == kwargs.get("ResourceArns", ["*"])[0]
    if "missing_context" in expect:
        assert sorted(result["MissingContextValues"]) == sorted(expect["missing_context"])
    if "matched" in expect:
        assert _shown(result) == _expected_statements(case, kwargs)
    if "ResourceArns" in kwargs:
        specific = result["ResourceSpecificResults"]
        assert [r["EvalResourceDecision"] for r in specific] == [expect["effect"]]
    if "PermissionsBoundaryPolicyInputList" in kwargs:
        assert "AllowedByPermissionsBoundary" in result["PermissionsBoundaryDecisionDetail"]


def _allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _deny(action: str) -> str:
    statement = {"Sid": "NoDelete", "Effect": "Deny", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _decisions(response: dict[str, Any]) -> dict[str, str]:
    return {r["EvalActionName"]: r["EvalDecision"] for r in response["EvaluationResults"]}


def test_principal_policy_includes_group_policies(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="sim-user")
    iam.create_group(GroupName="sim-readers")
    iam.add_user_to_group(GroupName="sim-readers", UserName="sim-user")
    iam.put_group_policy(
        GroupName="sim-readers", PolicyName="read", PolicyDocument=_allow("s3:Get*")
    )
    managed = iam.create_policy(PolicyName="sim-deny", PolicyDocument=_deny("s3:DeleteObject"))
    iam.attach_user_policy(UserName="sim-user", PolicyArn=managed["Policy"]["Arn"])
    arn = iam.get_user(UserName="sim-user")["User"]["Arn"]
    actions = ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]
    response = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions)
    assert _decisions(response) == {
        "s3:GetObject": "allowed",
        "s3:DeleteObject": "explicitDeny",
        "s3:PutObject": "implicitDeny",
    }
    by_action = {r["EvalActionName"]: r for r in response["EvaluationResults"]}
    assert [m["SourcePolicyId"] for m in by_action["s3:GetObject"]["MatchedStatements"]] == [
        "group_sim-readers_read"
    ]
    denied = by_action["s3:DeleteObject"]["MatchedStatements"]
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in denied] == [
        ("sim-deny", "user-managed")
    ]
    excluded = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:DeleteObject"],
        PolicyInputList=[_allow("s3:DeleteObject")],
        PolicyExclusionList=[{"PolicyArn": managed["Policy"]["Arn"]}],
    )
    assert _decisions(excluded) == {"s3:DeleteObject": "allowed"}


def test_group_source_and_boundary_input(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_group(GroupName="sim-group")
    iam.put_group_policy(GroupName="sim-group", PolicyName="all", PolicyDocument=_allow("s3:*"))
    arn = iam.get_group(GroupName="sim-group")["Group"]["Arn"]
    response = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        PermissionsBoundaryPolicyInputList=[_allow("s3:GetObject")],
    )
    assert _decisions(response) == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
    details = [r["PermissionsBoundaryDecisionDetail"] for r in response["EvaluationResults"]]
    assert details == [
        {"AllowedByPermissionsBoundary": True},
        {"AllowedByPermissionsBoundary": False},
    ]


def test_results_page_over_actions_and_resources(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    kwargs = {
        "PolicyInputList": [_allow("s3:*", "arn:aws:s3:::one/*")],
        "ActionNames": ["s3:GetObject", "s3:PutObject"],
        "ResourceArns": ["arn:aws:s3:::one/a", "arn:aws:s3:::two/a"],
    }
    first = iam.simulate_custom_policy(MaxItems=3, **kwargs)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 3
    rest = iam.simulate_custom_policy(Marker=first["Marker"], **kwargs)
    assert rest["IsTruncated"] is False
    pairs = [
        (r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
        for r in first["EvaluationResults"] + rest["EvaluationResults"]
    ]
    assert pairs == [
        ("s3:GetObject", "arn:aws:s3:::one/a", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::two/a", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::one/a", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::two/a", "implicitDeny"),
    ]
    paginator = iam.get_paginator("simulate_custom_policy")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 1}, **kwargs))
    assert len(pages) == 4


def test_resource_policy_needs_caller_and_grants_it(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    caller = "arn:aws:iam::123456789012:user/someone"
    resource_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": caller},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::shared/*",
                }
            ],
        }
    )
    kwargs = {
        "PolicyInputList": [_allow("ec2:*")],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::shared/key"],
        "ResourcePolicy": resource_policy,
    }
    with pytest.raises(ClientError) as caught:
        iam.simulate_custom_policy(**kwargs)
    assert caught.value.response["Error"]["Code"] == "InvalidInput"
    assert "CallerArn" in caught.value.response["Error"]["Message"]
    result = iam.simulate_custom_policy(CallerArn=caller, **kwargs)["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["EvalDecisionDetails"] == {
        "IAM Policy": "implicitDeny",
        "Resource Policy": "allowed",
    }
    other_account = iam.simulate_custom_policy(
        CallerArn=caller, ResourceOwner="arn:aws:iam::210987654321:root", **kwargs
    )
    assert other_account["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


@pytest.mark.parametrize(
    ("kwargs", "code", "fragment"),
    [
        (
            {"PolicyInputList": ['{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}']},
            "MalformedPolicyDocument",
            "PolicyInputList.1.Statement[0]",
        ),
        (
            {
                "PolicyInputList": [_allow("s3:*")],
                "ContextEntries": [
                    {
                        "ContextKeyName": "s3:max-keys",
                        "ContextKeyValues": ["ten"],
                        "ContextKeyType": "numeric",
                    }
                ],
            },
            "InvalidInput",
            "ContextEntries.member.1.ContextKeyValues",
        ),
        (
            {
                "PolicyInputList": [_allow("s3:*")],
                "ContextEntries": [
                    {
                        "ContextKeyName": "aws:SourceIp",
                        "ContextKeyValues": ["1.1.1.1"],
                        "ContextKeyType": "address",
                    }
                ],
            },
            "InvalidInput",
            "ContextKeyType",
        ),
        (
            {"PolicyInputList": [_allow("s3:*")], "ActionNames": ["x" * 129]},
            "ValidationError",
            "at 'actionNames'",
        ),
    ],
    ids=["statement-without-action", "numeric-not-a-number", "unknown-key-type", "long-action"],
)
def test_invalid_simulation_inputs(
    bridge: LiveBridge, kwargs: dict[str, Any], code: str, fragment: str
) -> None:
    arguments = {"ActionNames": ["s3:GetObject"], **kwargs}
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").simulate_custom_policy(**arguments)
    assert caught.value.response["Error"]["Code"] == code
    assert fragment in caught.value.response["Error"]["Message"]


def test_unknown_principal_is_no_such_entity(bridge: LiveBridge) -> None:
    with pytest.raises(ClientError) as caught:
        bridge.client("iam").simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:user/nobody", ActionNames=["s3:GetObject"]
        )
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
