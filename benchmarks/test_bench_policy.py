"""Checks of the benchmark's own parts: workload, Cedar translation, moto adapter, timing.

Run with `.venv/bin/pytest benchmarks/` (outside the default `tests/` path on purpose:
they need the `bench` extra, moto and cedarpy).
"""

from __future__ import annotations

import pytest
from policy_cedar import CedarBench, cedar_effect, translate_statement
from policy_moto import moto_calls, moto_effects
from policy_timing import latency_of, percentile
from policy_workload import (
    BenchRequest,
    Condition,
    Role,
    Statement,
    all_actions,
    all_resources,
    generate,
    scaling_role,
    wildcard_match,
)

S3_OBJECT = "arn:aws:s3:::bucket-7/data/part-1.csv"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t-1"
BASE_CONTEXT = {
    "aws:username": "alice",
    "aws:PrincipalTag/team": "data",
    "aws:SourceIp": "10.1.2.3",
    "aws:CurrentTime": "2026-06-15T12:00:00Z",
    "aws:MultiFactorAuthPresent": "true",
    "aws:MultiFactorAuthAge": "1200",
}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("dynamodb:?etItem", "dynamodb:BatchGetItem", False),
        ("arn:aws:s3:::bucket-7/*", S3_OBJECT, True),
        ("arn:aws:s3:::bucket-7/*", "arn:aws:s3:::bucket-70/x", False),
        ("a.b", "axb", False),
        ("*", "", True),
    ],
    ids=[
        "prefix",
        "prefix-miss",
        "one-char",
        "one-char-too-long",
        "arn",
        "arn-miss",
        "dot",
        "empty",
    ],
)
def test_wildcard_match(pattern: str, value: str, expected: bool) -> None:
    assert wildcard_match(pattern, value) is expected


def test_same_seed_same_workload_other_seed_other_workload() -> None:
    first = generate(7, 300)
    assert generate(7, 300) == first
    assert generate(8, 300) != first


def test_workload_has_the_requested_shape() -> None:
    workload = generate(11, 2_000)
    statements = [s for role in workload.roles for s in role.statements]
    assert len(workload.roles) == 50
    assert all(10 <= len(role.statements) <= 50 for role in workload.roles)
    assert 0.08 < sum(s.effect == "Deny" for s in statements) / len(statements) < 0.22
    assert 0.25 < sum(bool(s.conditions) for s in statements) / len(statements) < 0.42
    assert len(workload.requests) == 2_000
    assert {r.role for r in workload.requests} == set(range(50))


def test_scaling_role_keeps_ten_statements_on_real_services() -> None:
    role = scaling_role(3, 1_000)
    real = [s for s in role.statements if s.actions[0].split(":")[0] in {"s3", "ec2", "iam"}]
    unrelated = [s for s in role.statements if s.actions[0].startswith("svc")]
    assert len(role.statements) == 1_000
    assert len(unrelated) == 990
    assert len(real) <= 10
    assert len(role.documents()) == 20


def statement(
    effect: str = "Allow",
    actions: tuple[str, ...] = ("s3:GetObject",),
    resources: tuple[str, ...] = ("*",),
    conditions: tuple[Condition, ...] = (),
) -> Statement:
    return Statement("T", effect, actions, resources, conditions)


def request(
    action: str = "s3:GetObject", resource: str = S3_OBJECT, **context: str
) -> BenchRequest:
    values = {k: v for k, v in {**BASE_CONTEXT, **context}.items() if v != "-"}
    return BenchRequest(0, action, resource, values)


def cond(operator: str, key: str, *values: str) -> Condition:
    return Condition(operator, key, values)


ALLOW_ALL_S3 = statement(actions=("s3:*",))
CEDAR_CASES = [
    ([statement()], request(), "allowed"),
    ([statement(actions=("s3:Get*",))], request(), "allowed"),
    ([statement(actions=("dynamodb:?etItem",))], request("dynamodb:SetItem", TABLE), "allowed"),
    (
        [statement(actions=("dynamodb:?etItem",))],
        request("dynamodb:PutItem", TABLE),
        "implicitDeny",
    ),
    ([statement(resources=("arn:aws:s3:::bucket-7/*",))], request(), "allowed"),
    ([statement(resources=("arn:aws:s3:::bucket-1/*",))], request(), "implicitDeny"),
    ([statement(resources=(S3_OBJECT,))], request(), "allowed"),
    ([ALLOW_ALL_S3, statement("Deny", ("s3:Get*",))], request(), "explicitDeny"),
    (
        [statement(conditions=(cond("StringEquals", "aws:username", "bob", "alice"),))],
        request(),
        "allowed",
    ),
    (
        [statement(conditions=(cond("StringEquals", "aws:PrincipalTag/team", "data"),))],
        request(**{"aws:PrincipalTag/team": "-"}),
        "implicitDeny",
    ),
    ([statement(conditions=(cond("StringLike", "aws:username", "a*"),))], request(), "allowed"),
    (
        [statement(conditions=(cond("NumericLessThan", "aws:MultiFactorAuthAge", "900"),))],
        request(),
        "implicitDeny",
    ),
    (
        [statement(conditions=(cond("Bool", "aws:MultiFactorAuthPresent", "true"),))],
        request(**{"aws:MultiFactorAuthPresent": "false"}),
        "implicitDeny",
    ),
    (
        [
            statement(
                conditions=(cond("IpAddress", "aws:SourceIp", "192.168.0.0/16", "10.0.0.0/8"),)
            )
        ],
        request(),
        "allowed",
    ),
    (
        [statement(conditions=(cond("IpAddress", "aws:SourceIp", "192.168.0.0/16"),))],
        request(),
        "implicitDeny",
    ),
    (
        [
            statement(
                conditions=(cond("DateGreaterThan", "aws:CurrentTime", "2026-07-01T00:00:00Z"),)
            )
        ],
        request(),
        "implicitDeny",
    ),
    (
        [
            ALLOW_ALL_S3,
            statement(
                "Deny", ("s3:*",), conditions=(cond("Bool", "aws:MultiFactorAuthPresent", "false"),)
            ),
        ],
        request(),
        "allowed",
    ),
]
CEDAR_IDS = [
    "exact-action",
    "star-action",
    "one-char-action",
    "one-char-miss",
    "arn-wildcard",
    "arn-miss",
    "exact-arn",
    "deny-wins",
    "string-equals-any",
    "missing-key",
    "string-like",
    "numeric-less-than-false",
    "bool-false",
    "ip-in-second-range",
    "ip-outside",
    "date-before",
    "deny-condition-unmet",
]


@pytest.mark.parametrize(("statements", "req", "expected"), CEDAR_CASES, ids=CEDAR_IDS)
def test_cedar_translation_decides_like_iam(
    statements: list[Statement], req: BenchRequest, expected: str
) -> None:
    bench = CedarBench([Role("r", tuple(statements))], all_actions(), all_resources())
    (answer,) = bench.run(bench.group([req]))
    assert cedar_effect(answer) == expected


def test_cedar_translation_puts_exact_lists_in_the_scope() -> None:
    text = translate_statement(statement(actions=("s3:GetObject", "s3:PutObject")), all_actions())
    assert 'action in [Action::"s3:GetObject", Action::"s3:PutObject"], resource);' in text


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([statement()], "allowed"),
        ([ALLOW_ALL_S3, statement("Deny", ("s3:Get*",))], "explicitDeny"),
        ([statement(actions=("ec2:*",))], "implicitDeny"),
    ],
    ids=["allow", "deny", "no-match"],
)
def test_moto_adapter_effects(statements: list[Statement], expected: str) -> None:
    calls = moto_calls([Role("r", tuple(statements))], [request()])
    assert moto_effects(calls) == [expected]


@pytest.mark.parametrize(
    ("fraction", "expected_us"),
    [(0.5, 50.0), (0.99, 99.0), (0.999, 100.0), (0.0, 1.0)],
    ids=["p50", "p99", "p999", "min"],
)
def test_percentile_nearest_rank(fraction: float, expected_us: float) -> None:
    samples = [i * 1000 for i in range(1, 101)]
    assert percentile(samples, fraction) == expected_us


def test_latency_sorts_its_samples() -> None:
    latency = latency_of([3000, 1000, 2000])
    assert (latency.p50, latency.p99) == (2.0, 3.0)
