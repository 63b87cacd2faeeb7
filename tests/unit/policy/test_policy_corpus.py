"""The policy decision corpus: every case of `tests/data/policy_corpus/*.json`.

Each evaluation case runs through both public entry points (`PolicySet.evaluate`
and `evaluate`) and checks the effect, and when the case gives them, the deciding
statements (`[policy_id, index]`, order-insensitive) and the missing context keys.
Each parse case checks the JSON path of the `PolicyError`, or that lenient loading
succeeds. A case may carry `"xfail": "engine bug: ..."` while the engine is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.policy import (
    Decision,
    Policy,
    PolicyError,
    PolicySet,
    Principal,
    Request,
    evaluate,
    parse_policy,
)

CORPUS = Path(__file__).resolve().parents[2] / "data" / "policy_corpus"
MINIMUM_CASES = 300
EFFECTS = ("allowed", "explicitDeny", "implicitDeny")
EVALUATION_KEYS = {
    "name",
    "source",
    "identity",
    "boundary",
    "session",
    "resource",
    "principal",
    "request",
    "expect",
    "xfail",
}
PARSE_KEYS = {
    "name",
    "source",
    "kind",
    "parse",
    "strict",
    "expect_error",
    "expect_ok",
    "xfail",
}


def _load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            cases.append({**case, "_file": path.name})
    return cases


CASES = _load_cases()


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if "xfail" in case:
        marks.append(pytest.mark.xfail(reason=case["xfail"], strict=True))
    return pytest.param(case, id=case["name"], marks=marks)


EVALUATION_CASES = [_param(case) for case in CASES if "parse" not in case]
PARSE_CASES = [_param(case) for case in CASES if "parse" in case]


@dataclass(frozen=True)
class Inputs:
    """The engine inputs built from one evaluation case."""

    request: Request
    identity: tuple[Policy, ...]
    boundary: tuple[Policy, ...] | None
    session: tuple[Policy, ...] | None
    resource: Policy | None
    principal: Principal | None


def _policy(entry: Mapping[str, Any], kind: str = "identity") -> Policy:
    return parse_policy(
        entry["document"],
        strict=entry.get("strict", True),
        kind=kind,
        policy_id=entry["id"],
    )


def _policies(entries: Sequence[Mapping[str, Any]] | None) -> tuple[Policy, ...] | None:
    return None if entries is None else tuple(_policy(entry) for entry in entries)


def _inputs(case: Mapping[str, Any]) -> Inputs:
    raw_request = case["request"]
    boundary = case.get("boundary")
    resource = case.get("resource")
    principal = case.get("principal")
    return Inputs(
        request=Request(raw_request["action"], raw_request["resource"], raw_request["context"]),
        identity=_policies(case["identity"]) or (),
        boundary=None if boundary is None else (_policy(boundary),),
        session=_policies(case.get("session")),
        resource=None if resource is None else _policy(resource, resource["kind"]),
        principal=None if principal is None else Principal(**principal),
    )


def _through_policy_set(inputs: Inputs) -> Decision:
    policy_set = PolicySet(
        inputs.identity,
        boundary=inputs.boundary,
        session=inputs.session,
        resource=inputs.resource,
    )
    return policy_set.evaluate(inputs.request, principal=inputs.principal)


def _through_function(inputs: Inputs) -> Decision:
    return evaluate(
        inputs.request,
        inputs.identity,
        boundary=inputs.boundary,
        session=inputs.session,
        resource=inputs.resource,
        principal=inputs.principal,
    )


def _summary(decision: Decision) -> dict[str, Any]:
    return {
        "effect": decision.effect,
        "matched": sorted([item.policy_id, item.index] for item in decision.matched),
        "missing_context": list(decision.missing_context),
    }


def _expected(decision: Decision, expect: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of `decision` that the case asserts, in the case's own shape."""
    actual = _summary(decision)
    wanted = {"effect": expect["effect"]}
    if "matched" in expect:
        wanted["matched"] = sorted(expect["matched"])
    if "missing_context" in expect:
        wanted["missing_context"] = list(expect["missing_context"])
    return {"actual": {key: actual[key] for key in wanted}, "wanted": wanted}


@pytest.mark.parametrize("case", EVALUATION_CASES)
def test_policy_corpus_decision(case: dict[str, Any]) -> None:
    inputs = _inputs(case)
    for decide in (_through_policy_set, _through_function):
        decision = decide(inputs)
        compared = _expected(decision, case["expect"])
        assert compared["actual"] == compared["wanted"], decide.__name__
        assert decision.allowed == (decision.effect == "allowed")
        assert list(decision.missing_context) == sorted(decision.missing_context)


@pytest.mark.parametrize("case", PARSE_CASES)
def test_policy_corpus_parse(case: dict[str, Any]) -> None:
    strict = case.get("strict", True)
    kind = case.get("kind", "identity")
    if case.get("expect_ok"):
        policy = parse_policy(case["parse"], strict=strict, kind=kind, policy_id=case["name"])
        assert policy.id == case["name"]
        return
    with pytest.raises(PolicyError) as raised:
        parse_policy(case["parse"], strict=strict, kind=kind)
    assert raised.value.path == case["expect_error"]["path"]
    assert raised.value.message
    assert raised.value.message == raised.value.message.strip().rstrip(".")


def test_policy_corpus_size() -> None:
    assert len(CASES) >= MINIMUM_CASES


def test_policy_corpus_names_unique() -> None:
    names = [case["name"] for case in CASES]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert duplicates == []


@pytest.mark.parametrize("case", [pytest.param(case, id=case["name"]) for case in CASES])
def test_policy_corpus_case_shape(case: dict[str, Any]) -> None:
    keys = set(case) - {"_file"}
    if "parse" in case:
        assert keys <= PARSE_KEYS
        assert ("expect_error" in case) != bool(case.get("expect_ok"))
    else:
        assert keys <= EVALUATION_KEYS
        assert case["expect"]["effect"] in EFFECTS
    assert case["source"]
    assert case["name"] == case["name"].lower()
    assert " " not in case["name"]
    if "xfail" in case:
        assert case["xfail"].startswith("engine bug: ")
