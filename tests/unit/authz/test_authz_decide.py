"""Decisions for session principals: role ∩ session policies, boundaries, federated users,
GetSessionToken sessions, restrictions and the session condition keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from authz_sessions import ACCOUNT, World, allow, document

from bridge.authz.decide import Authorizer, RequestFacts, request_context
from bridge.authz.principal import Caller, session_caller
from bridge.credentials.issue import IssuedCredentials
from bridge.storage.interfaces import Tag

BUCKET = "arn:aws:s3:::reports/*"
ROLE_POLICY = document(allow(["s3:GetObject", "s3:PutObject"]), allow("iam:ListUsers"))
SESSION_POLICY = document(allow(["s3:GetObject", "dynamodb:GetItem"], BUCKET))


@pytest.fixture
def world() -> World:
    return World()


def caller_of(creds: IssuedCredentials) -> Caller:
    return session_caller(creds.claims, region="eu-west-1", service="s3")


def effect(world: World, caller: Caller, action: str, resource: str = "*") -> str:
    facts = RequestFacts(now=world.clock.now(), secure_transport=True)
    return Authorizer(world.directory).decide(caller, action, resource, facts).effect


SESSION_POLICIES = (("session-policy", SESSION_POLICY),)


@pytest.mark.parametrize(
    ("action", "resource", "with_session_policy", "expected"),
    [
        ("s3:GetObject", "arn:aws:s3:::reports/q1.csv", True, "allowed"),
        ("s3:PutObject", "arn:aws:s3:::reports/q1.csv", True, "implicitDeny"),
        ("s3:GetObject", "arn:aws:s3:::secrets/key", True, "implicitDeny"),
        ("dynamodb:GetItem", "arn:aws:s3:::reports/q1.csv", True, "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::reports/q1.csv", False, "allowed"),
        ("s3:GetObject", "arn:aws:s3:::secrets/key", False, "allowed"),
        ("dynamodb:GetItem", "*", False, "implicitDeny"),
    ],
    ids=[
        "both-allow",
        "role-allows-session-does-not",
        "session-resource-narrower",
        "session-allows-role-does-not",
        "no-session-policy-put",
        "no-session-policy-any-bucket",
        "no-session-policy-role-denies",
    ],
)
def test_a_role_session_may_do_only_what_role_and_session_policies_allow(
    world: World, action: str, resource: str, with_session_policy: bool, expected: str
) -> None:
    role = world.role("reader", ROLE_POLICY)
    policies = SESSION_POLICIES if with_session_policy else ()
    caller = caller_of(world.role_session(role, session_policies=policies))
    assert effect(world, caller, action, resource) == expected


def test_the_role_boundary_narrows_a_session(world: World) -> None:
    role = world.role("reader", ROLE_POLICY)
    boundary = world.directory.policies.create("only-get", document(allow("s3:GetObject")))
    world.directory.roles.put_permissions_boundary("reader", world.directory.policies.arn(boundary))
    caller = caller_of(world.role_session(role))
    assert (effect(world, caller, "s3:GetObject"), effect(world, caller, "s3:PutObject")) == (
        "allowed",
        "implicitDeny",
    )


def test_a_deleted_role_leaves_its_sessions_nothing(world: World) -> None:
    role = world.role("reader", ROLE_POLICY)
    caller = caller_of(world.role_session(role))
    assert effect(world, caller, "s3:GetObject") == "allowed"
    world.directory.inline_policies.delete("role", "reader", "p0")
    world.directory.roles.delete("reader")
    assert effect(world, caller, "s3:GetObject") == "implicitDeny"


@pytest.mark.parametrize(
    ("action", "resource", "policies", "expected"),
    [
        ("s3:GetObject", "arn:aws:s3:::reports/a", "session", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::reports/a", "session", "implicitDeny"),
        ("dynamodb:GetItem", "arn:aws:s3:::reports/a", "session", "implicitDeny"),
        ("s3:GetObject", "arn:aws:s3:::reports/a", "none", "implicitDeny"),
    ],
    ids=["both-allow", "user-allows-session-does-not", "session-allows-user-does-not", "none"],
)
def test_a_federated_user_gets_the_user_policies_cut_by_the_session_policies(
    world: World, action: str, resource: str, policies: str, expected: str
) -> None:
    user = world.user("bob", ROLE_POLICY)
    given = SESSION_POLICIES if policies == "session" else ()
    caller = caller_of(world.user_session(user, "federated-user", session_policies=given))
    assert effect(world, caller, action, resource) == expected


@pytest.mark.parametrize(
    ("mfa", "action", "expected"),
    [
        (False, "s3:PutObject", "allowed"),
        (False, "iam:ListUsers", "implicitDeny"),
        (True, "iam:ListUsers", "allowed"),
        (True, "dynamodb:GetItem", "implicitDeny"),
    ],
    ids=["s3", "iam-without-mfa", "iam-with-mfa", "not-in-user-policies"],
)
def test_a_user_session_gets_the_user_policies_and_iam_only_with_mfa(
    world: World, mfa: bool, action: str, expected: str
) -> None:
    user = world.user("bob", ROLE_POLICY)
    caller = caller_of(world.user_session(user, "user-session", mfa_present=mfa))
    assert effect(world, caller, action) == expected


@pytest.mark.parametrize(
    ("mfa", "action", "expected"),
    [
        (False, "dynamodb:DeleteTable", "allowed"),
        (False, "iam:CreateUser", "implicitDeny"),
        (True, "iam:CreateUser", "allowed"),
    ],
    ids=["anything", "iam-without-mfa", "iam-with-mfa"],
)
def test_a_root_session_may_do_anything_but_iam_without_mfa(
    world: World, mfa: bool, action: str, expected: str
) -> None:
    caller = caller_of(world.user_session(None, "user-session", mfa_present=mfa))
    assert effect(world, caller, action) == expected


def test_a_role_session_cannot_call_get_session_token(world: World) -> None:
    role = world.role("reader", document(allow("sts:*")))
    caller = caller_of(world.role_session(role))
    assert (
        effect(world, caller, "sts:AssumeRole"),
        effect(world, caller, "sts:GetSessionToken"),
    ) == (
        "allowed",
        "implicitDeny",
    )


def _role_context(world: World) -> tuple[dict[str, object], IssuedCredentials, str]:
    role = world.role("reader", tags=(Tag("team", "red"), Tag("cost", "42")))
    creds = world.role_session(
        role,
        "alice",
        session_tags=(Tag("Team", "blue"),),
        role_tags=role.tags,
        source_identity="alice@example.com",
        mfa_present=True,
    )
    world.clock.advance(30)
    facts = RequestFacts(now=world.clock.now(), source_ip="10.0.0.1")
    return dict(request_context(caller_of(creds), facts)), creds, role.role_id


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("aws:PrincipalArn", lambda c, r: f"arn:aws:iam::{ACCOUNT}:role/team/reader"),
        ("aws:PrincipalType", lambda c, r: "AssumedRole"),
        ("aws:userid", lambda c, r: f"{r}:alice"),
        ("aws:PrincipalAccount", lambda c, r: ACCOUNT),
        ("aws:PrincipalTag/Team", lambda c, r: "blue"),
        ("aws:PrincipalTag/cost", lambda c, r: "42"),
        ("aws:SourceIdentity", lambda c, r: "alice@example.com"),
        ("aws:MultiFactorAuthPresent", lambda c, r: True),
        ("aws:MultiFactorAuthAge", lambda c, r: 30),
        ("aws:TokenIssueTime", lambda c, r: c.claims.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("aws:username", lambda c, r: None),
        ("aws:PrincipalTag/team", lambda c, r: None),
    ],
    ids=[
        "principal-arn-is-the-role",
        "principal-type",
        "userid",
        "account",
        "session-tag",
        "role-tag",
        "source-identity",
        "mfa-present",
        "mfa-age",
        "token-issue-time",
        "no-username",
        "overridden-role-tag-gone",
    ],
)
def test_role_session_context_keys(world: World, key: str, expected: Any) -> None:
    context, creds, role_id = _role_context(world)
    assert context.get(key) == expected(creds, role_id)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("federated-user", ("FederatedUser", f"{ACCOUNT}:contractor", None, False)),
        ("user-session", ("User", "AIDA", "bob", False)),
    ],
    ids=["federated-user", "user-session"],
)
def test_user_based_session_context_keys(
    world: World, kind: str, expected: tuple[str, str, str | None, bool]
) -> None:
    user = world.user("bob")
    creds = world.user_session(user, kind)  # type: ignore[arg-type]
    context = request_context(caller_of(creds), RequestFacts(now=world.clock.now()))
    found = (
        context["aws:PrincipalType"],
        str(context["aws:userid"])[: len(expected[1])],
        context.get("aws:username"),
        context["aws:MultiFactorAuthPresent"],
    )
    assert found == expected
    assert "aws:MultiFactorAuthAge" not in context


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:PrincipalTag/team": "blue"}}, "allowed"),
        ({"StringEquals": {"aws:PrincipalTag/team": "red"}}, "implicitDeny"),
        ({"StringLike": {"aws:userid": "AROA*:alice"}}, "allowed"),
        ({"StringEquals": {"aws:SourceIdentity": "alice@example.com"}}, "allowed"),
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, "allowed"),
        ({"DateGreaterThan": {"aws:TokenIssueTime": "2000-01-01T00:00:00Z"}}, "allowed"),
        ({"DateGreaterThan": {"aws:TokenIssueTime": "2999-01-01T00:00:00Z"}}, "implicitDeny"),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/team/reader"}}, "allowed"),
    ],
    ids=[
        "session-tag-overrides",
        "role-tag-overridden",
        "userid",
        "source-identity",
        "mfa",
        "issued-after",
        "issued-before",
        "principal-arn",
    ],
)
def test_session_keys_reach_policy_conditions(
    world: World, condition: dict[str, object], expected: str
) -> None:
    role = world.role(
        "reader", document(allow("s3:GetObject", **condition)), tags=(Tag("team", "red"),)
    )
    creds = world.role_session(
        role,
        session_tags=(Tag("team", "blue"),),
        role_tags=role.tags,
        source_identity="alice@example.com",
        mfa_present=True,
    )
    assert effect(world, caller_of(creds), "s3:GetObject") == expected


def test_sessions_of_one_role_share_a_compiled_policy_set(world: World) -> None:
    role = world.role("reader", ROLE_POLICY)
    authorizer = Authorizer(world.directory)
    facts = RequestFacts(now=world.clock.now() + timedelta(seconds=1))
    callers = [caller_of(world.role_session(role, name)) for name in ("alice", "bob")]
    callers.append(caller_of(world.role_session(role, "carol", session_policies=SESSION_POLICIES)))
    effects = [authorizer.decide(c, "s3:PutObject", "*", facts).effect for c in callers]
    assert effects == ["allowed", "allowed", "implicitDeny"]
    assert len(authorizer._cache) == 2
