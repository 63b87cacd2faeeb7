"""Properties of the policy engine over random policies and requests.

Policies are drawn from a small alphabet of actions, resources and conditions so
that statements often overlap. A small independent oracle (glob matching plus the
few conditions of the alphabet) gives the expected effect; the other properties
compare the engine with itself: statement order, monotonicity of Allow and Deny,
boundaries and session policies never widening access, and the two entry points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.policy import Decision, Policy, PolicySet, Request, evaluate, parse_policy

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None)

ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:StartInstances")
ACTION_PATTERNS = (*ACTIONS, "s3:*", "s3:Get*", "*", "ec2:*", "S3:PUTOBJECT", "s3:?utObject")
RESOURCES = (
    "arn:aws:s3:::a/x",
    "arn:aws:s3:::a/y",
    "arn:aws:s3:::b/x",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
)
RESOURCE_PATTERNS = (
    *RESOURCES,
    "*",
    "arn:aws:s3:::a/*",
    "arn:aws:s3:::?/x",
    "arn:aws:ec2:*:123456789012:instance/*",
    "arn:aws:s3:::A/x",
)
Context = Mapping[str, object]
Oracle = Callable[[Context], bool]


def _tag_keys(context: Context) -> list[object] | None:
    value = context.get("aws:TagKeys")
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def _all_tag_keys_listed(context: Context) -> bool:
    keys = _tag_keys(context)
    return keys is None or all(key in ("env", "team") for key in keys)


def _mfa_recent(context: Context) -> bool:
    age = context.get("aws:MultiFactorAuthAge")
    return isinstance(age, int) and age < 3600


# (condition element, oracle on the request context)
CONDITIONS: tuple[tuple[dict[str, Any] | None, Oracle], ...] = (
    (None, lambda context: True),
    ({"StringEquals": {"aws:username": "alice"}}, lambda c: c.get("aws:username") == "alice"),
    ({"StringNotEquals": {"aws:username": "alice"}}, lambda c: c.get("aws:username") != "alice"),
    (
        {"StringEqualsIfExists": {"aws:username": "bob"}},
        lambda c: c.get("aws:username", "bob") == "bob",
    ),
    ({"Null": {"aws:username": "true"}}, lambda c: "aws:username" not in c),
    ({"Bool": {"aws:SecureTransport": "true"}}, lambda c: c.get("aws:SecureTransport") is True),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, _mfa_recent),
    (
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}},
        lambda c: "env" in (_tag_keys(c) or []),
    ),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}, _all_tag_keys_listed),
)
CONTEXT_CHOICES: dict[str, tuple[object, ...]] = {
    "aws:username": ("alice", "bob"),
    "aws:SecureTransport": (True, False),
    "aws:MultiFactorAuthAge": (60, 7200),
    "aws:TagKeys": ([], ["env"], ["env", "owner"], ["team", "env"]),
}


@dataclass(frozen=True)
class Stmt:
    """A generated statement and what the oracle needs to judge it."""

    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    condition: int

    def document(self) -> dict[str, Any]:
        element: dict[str, Any] = {"Effect": self.effect}
        element["NotAction" if self.not_action else "Action"] = list(self.actions)
        element["NotResource" if self.not_resource else "Resource"] = list(self.resources)
        condition = CONDITIONS[self.condition][0]
        if condition is not None:
            element["Condition"] = condition
        return element

    def applies(self, request: Request) -> bool:
        action = any(_glob(p, request.action, fold=True) for p in self.actions)
        resource = any(_glob(p, request.resource, fold=False) for p in self.resources)
        return (
            action != self.not_action
            and resource != self.not_resource
            and CONDITIONS[self.condition][1](request.context)
        )


def _glob(pattern: str, text: str, *, fold: bool) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if fold else 0)) is not None


def _statements(effect: st.SearchStrategy[str]) -> st.SearchStrategy[Stmt]:
    return st.builds(
        Stmt,
        effect=effect,
        actions=st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2).map(tuple),
        not_action=st.booleans(),
        resources=st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2).map(tuple),
        not_resource=st.booleans(),
        condition=st.integers(min_value=0, max_value=len(CONDITIONS) - 1),
    )


STATEMENTS = st.lists(_statements(st.sampled_from(("Allow", "Deny"))), min_size=1, max_size=5)
ALLOWS = _statements(st.just("Allow"))
DENIES = _statements(st.just("Deny"))


@st.composite
def requests(draw: st.DrawFn) -> Request:
    context: dict[str, object] = {}
    for key, choices in CONTEXT_CHOICES.items():
        if draw(st.booleans()):
            context[key] = draw(st.sampled_from(choices))
    return Request(draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)), context)


def _policy(statements: Sequence[Stmt], policy_id: str = "p1") -> Policy:
    document = {"Version": "2012-10-17", "Statement": [s.document() for s in statements]}
    return parse_policy(document, policy_id=policy_id)


def _decide(statements: Sequence[Stmt], request: Request, **extra: Any) -> Decision:
    return PolicySet([_policy(statements)], **extra).evaluate(request)


def _oracle_effect(statements: Sequence[Stmt], request: Request) -> str:
    applying = [s.effect for s in statements if s.applies(request)]
    if "Deny" in applying:
        return "explicitDeny"
    return "allowed" if "Allow" in applying else "implicitDeny"


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, request=requests())
def test_policy_property_effect_matches_oracle(statements: list[Stmt], request: Request) -> None:
    decision = _decide(statements, request)
    assert decision.effect == _oracle_effect(statements, request)
    wanted = {"allowed": "Allow", "explicitDeny": "Deny"}.get(decision.effect)
    if wanted is not None:
        assert decision.matched
    for matched in decision.matched:
        assert matched.effect == wanted
        assert statements[matched.index].applies(request)


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, request=requests(), data=st.data())
def test_policy_property_statement_order_irrelevant(
    statements: list[Stmt], request: Request, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(statements))
    split = data.draw(st.integers(min_value=0, max_value=len(shuffled)))
    parts = [part for part in (shuffled[:split], shuffled[split:]) if part]
    spread = [_policy(part, f"p{n}") for n, part in enumerate(parts)]
    original = _decide(statements, request).effect
    assert _decide(shuffled, request).effect == original
    assert PolicySet(spread).evaluate(request).effect == original


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, deny=DENIES, request=requests())
def test_policy_property_adding_deny_never_allows(
    statements: list[Stmt], deny: Stmt, request: Request
) -> None:
    if not _decide(statements, request).allowed:
        assert not _decide([*statements, deny], request).allowed


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, allow=ALLOWS, request=requests())
def test_policy_property_adding_allow_never_denies(
    statements: list[Stmt], allow: Stmt, request: Request
) -> None:
    if _decide(statements, request).allowed:
        assert _decide([allow, *statements], request).allowed


@PROPERTY_SETTINGS
@given(
    statements=STATEMENTS,
    boundary=STATEMENTS,
    session=STATEMENTS,
    request=requests(),
)
def test_policy_property_boundary_and_session_never_widen(
    statements: list[Stmt], boundary: list[Stmt], session: list[Stmt], request: Request
) -> None:
    without = _decide(statements, request).allowed
    limits = {"boundary": [_policy(boundary, "b1")], "session": [_policy(session, "s1")]}
    for name, policies in limits.items():
        if _decide(statements, request, **{name: policies}).allowed:
            assert without, name
    if _decide(statements, request, **limits).allowed:
        assert without


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, request=requests())
def test_policy_property_explicit_deny_iff_a_deny_applies(
    statements: list[Stmt], request: Request
) -> None:
    def applies_alone(statement: Stmt) -> bool:
        as_allow = Stmt("Allow", *_fields(statement)[1:])
        return _decide([as_allow], request).allowed

    some_deny_applies = any(applies_alone(s) for s in statements if s.effect == "Deny")
    assert (_decide(statements, request).effect == "explicitDeny") == some_deny_applies


def _fields(statement: Stmt) -> tuple[Any, ...]:
    return (
        statement.effect,
        statement.actions,
        statement.not_action,
        statement.resources,
        statement.not_resource,
        statement.condition,
    )


@PROPERTY_SETTINGS
@given(statements=STATEMENTS, boundary=st.none() | STATEMENTS, request=requests())
def test_policy_property_entry_points_agree(
    statements: list[Stmt], boundary: list[Stmt] | None, request: Request
) -> None:
    identity = [_policy(statements)]
    bounds = None if boundary is None else [_policy(boundary, "b1")]
    through_set = PolicySet(identity, boundary=bounds).evaluate(request)
    through_function = evaluate(request, identity, boundary=bounds)
    assert through_set == through_function
    referenced = {"aws:username", "aws:securetransport", "aws:multifactorauthage", "aws:tagkeys"}
    assert {key.lower() for key in through_set.missing_context} <= referenced
