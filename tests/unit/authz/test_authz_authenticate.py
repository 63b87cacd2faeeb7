"""Authentication with temporary credentials (and long-term keys still), signed by botocore."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from authz_sessions import ACCOUNT, World, signed

from bridge.authz.authenticate import Authenticator
from bridge.authz.principal import principal_tags
from bridge.clock import SystemRandom
from bridge.credentials.issue import IssuedCredentials
from bridge.credentials.keys import KeyRing
from bridge.credentials.revocation import Revocations
from bridge.errors import AuthenticationFailed
from bridge.storage.interfaces import Tag, UnitOfWork

STS = ("sts",)


@pytest.fixture
def world() -> World:
    return World()


def authenticator(world: World, *, revocations: bool = True) -> Authenticator:
    checker = Revocations(world.store, clock=world.clock) if revocations else None
    return Authenticator(world.directory, key_ring=world.key_ring, revocations=checker)


def failure(auth: Authenticator, world: World, request: object) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        auth.authenticate(request, now=world.clock.now(), services=STS)  # type: ignore[arg-type]
    return caught.value


Expected = tuple[str, str, str, str | None, bool]


def _identities(world: World) -> dict[str, tuple[IssuedCredentials, Expected]]:
    role = world.role("deploy", tags=(Tag("team", "red"), Tag("cost", "42")))
    user = world.user("bob")
    return {
        "assumed-role": (
            world.role_session(role, "alice@example.com", session_tags=(Tag("Team", "blue"),)),
            (
                "assumed-role",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/alice@example.com",
                f"{role.role_id}:alice@example.com",
                "alice@example.com",
                False,
            ),
        ),
        "federated-user": (
            world.user_session(user, "federated-user", session_name="contractor"),
            (
                "federated-user",
                f"arn:aws:sts::{ACCOUNT}:federated-user/contractor",
                f"{ACCOUNT}:contractor",
                "contractor",
                False,
            ),
        ),
        "user-session": (
            world.user_session(user, "user-session"),
            ("user-session", f"arn:aws:iam::{ACCOUNT}:user/bob", user.user_id, "bob", False),
        ),
        "root-session": (
            world.user_session(None, "user-session"),
            ("user-session", f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, None, True),
        ),
    }


@pytest.mark.parametrize("presigned", [False, True], ids=["header", "presigned-query"])
@pytest.mark.parametrize(
    "which", ["assumed-role", "federated-user", "user-session", "root-session"]
)
def test_temporary_credentials_give_the_identity_getcalleridentity_reports(
    world: World, which: str, presigned: bool
) -> None:
    creds, expected = _identities(world)[which]
    request = signed(
        creds.access_key_id, creds.secret_access_key, creds.session_token, presigned=presigned
    )
    caller = authenticator(world).authenticate(request, now=world.clock.now(), services=STS)
    assert (caller.kind, caller.arn, caller.principal_id, caller.name, caller.is_root) == expected
    assert caller.session == creds.claims
    assert (caller.access_key_id, caller.account_id, caller.region, caller.service) == (
        creds.access_key_id,
        ACCOUNT,
        "eu-west-1",
        "sts",
    )


def test_session_tags_override_role_tags_case_insensitively(world: World) -> None:
    role = world.role("deploy", tags=(Tag("team", "red"), Tag("cost", "42")))
    creds = world.role_session(role, session_tags=(Tag("Team", "blue"),), role_tags=role.tags)
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    caller = authenticator(world).authenticate(request, now=world.clock.now(), services=STS)
    assert caller.tags == (Tag("cost", "42"), Tag("Team", "blue"))
    assert caller.tags == principal_tags(creds.claims)


@pytest.mark.parametrize(
    ("service", "action", "kind", "mfa", "refused"),
    [
        ("iam", "ListUsers", "assumed-role", False, False),
        ("sts", "GetSessionToken", "assumed-role", False, True),
        ("sts", "GetFederationToken", "assumed-role", False, True),
        ("sts", "AssumeRole", "assumed-role", False, False),
        ("iam", "ListUsers", "user-session", False, True),
        ("iam", "ListUsers", "user-session", True, False),
        ("sts", "AssumeRole", "user-session", False, False),
        ("sts", "GetFederationToken", "user-session", True, True),
        ("iam", "ListUsers", "federated-user", True, True),
        ("sts", "GetCallerIdentity", "federated-user", False, False),
        ("sts", "AssumeRole", "federated-user", False, True),
        ("s3", "GetObject", "federated-user", False, False),
    ],
    ids=[
        "role-iam",
        "role-get-session-token",
        "role-get-federation-token",
        "role-assume-role",
        "session-iam-without-mfa",
        "session-iam-with-mfa",
        "session-assume-role",
        "session-get-federation-token",
        "federated-iam",
        "federated-caller-identity",
        "federated-assume-role",
        "federated-other-service",
    ],
)
def test_restrictions_travel_as_data_on_the_caller(
    world: World, service: str, action: str, kind: str, mfa: bool, refused: bool
) -> None:
    if kind == "assumed-role":
        creds = world.role_session(world.role("r"), mfa_present=mfa)
    else:
        creds = world.user_session(world.user("u"), kind, mfa_present=mfa)  # type: ignore[arg-type]
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    caller = authenticator(world).authenticate(request, now=world.clock.now(), services=STS)
    refusal = caller.restrictions.refusal(service, action)
    assert (refusal is not None) == refused
    if refusal is not None:
        assert refusal.startswith(f"`{service}:{action}` is not available to ")


def test_long_term_keys_are_unrestricted_and_still_work(world: World) -> None:
    world.user("carol")
    key = world.directory.keys.create("carol")
    request = signed(key.key.access_key_id, key.secret_access_key, None)
    caller = authenticator(world).authenticate(request, now=world.clock.now(), services=STS)
    assert (caller.kind, caller.session, caller.restrictions.refusal("iam", "ListUsers")) == (
        "user",
        None,
        None,
    )


def _refusal_cases(world: World) -> dict[str, tuple[object, str, str]]:
    role = world.role("deploy")
    creds = world.role_session(role)
    other = world.role_session(role, "mallory")
    world.clock.advance(-900)
    expired = world.role_session(role, duration_seconds=900)  # expires now
    world.clock.advance(900)
    key, secret, token = creds.access_key_id, creds.secret_access_key, creds.session_token
    return {
        "token-of-another-key": (
            signed(other.access_key_id, secret, token),
            "InvalidClientTokenId",
            f"not issued for the access key id `{other.access_key_id}`",
        ),
        "wrong-secret": (
            signed(key, other.secret_access_key, token),
            "SignatureDoesNotMatch",
            "signature we calculated does not match",
        ),
        "expired": (
            signed(expired.access_key_id, expired.secret_access_key, expired.session_token),
            "ExpiredToken",
            "is expired",
        ),
        "tampered": (
            signed(key, secret, token[:-2] + ("AA" if token[-2:] != "AA" else "BA")),
            "InvalidClientTokenId",
            "is invalid",
        ),
        "temporary-key-without-token": (
            signed(key, secret, None),
            "InvalidClientTokenId",
            "is invalid",
        ),
        "long-term-key-with-a-token": (
            signed("AKIAABCDEFGHIJKLMNOP", secret, token),
            "InvalidClientTokenId",
            "not issued for the access key id `AKIAABCDEFGHIJKLMNOP`",
        ),
        "unsigned-token-header": (
            signed(key, secret, None, extra_headers={"X-Amz-Security-Token": token}),
            "IncompleteSignature",
            "must be among the signed headers",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "token-of-another-key",
        "wrong-secret",
        "expired",
        "tampered",
        "temporary-key-without-token",
        "long-term-key-with-a-token",
        "unsigned-token-header",
    ],
)
def test_bad_temporary_credentials_are_refused(world: World, case: str) -> None:
    request, reason, message = _refusal_cases(world)[case]
    found = failure(authenticator(world), world, request)
    assert (found.reason, message in found.message) == (reason, True), found.message


def test_without_a_key_ring_session_tokens_are_refused(world: World) -> None:
    creds = world.role_session(world.role("deploy"))
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert failure(Authenticator(world.directory), world, request).reason == "InvalidClientTokenId"


@pytest.mark.parametrize(
    ("revoke", "refused"),
    [
        (lambda r, c: r.revoke_session(c.access_key_id), True),
        (lambda r, c: r.revoke_session(c.claims.token_id), True),
        (lambda r, c: r.revoke_principal(c.claims.subject_id), True),
        (
            lambda r, c: r.revoke_principal(c.claims.subject_id, issued_before=c.claims.issued_at),
            False,
        ),
        (lambda r, c: r.revoke_session("ASIAOTHEROTHEROTHER2"), False),
    ],
    ids=["session-by-key", "session-by-token-id", "role-now", "role-at-issue-time", "other"],
)
def test_revoked_sessions_are_refused_after_the_signature_holds(
    world: World, revoke: object, refused: bool
) -> None:
    creds = world.role_session(world.role("deploy"))
    checker = Revocations(world.store, clock=world.clock)
    auth = Authenticator(world.directory, key_ring=world.key_ring, revocations=checker)
    world.clock.advance(1)
    assert callable(revoke)
    revoke(checker, creds)
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    if not refused:
        assert auth.authenticate(request, now=world.clock.now(), services=STS).session is not None
        return
    found = failure(auth, world, request)
    assert (found.reason, "revoked" in found.message) == ("InvalidClientTokenId", True)
    forged = signed(creds.access_key_id, "x" * 40, creds.session_token)
    assert failure(auth, world, forged).reason == "SignatureDoesNotMatch"


def test_authentication_with_a_session_token_reads_no_database(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = world.role_session(world.role("deploy"))
    auth = authenticator(world)
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    opened: list[int] = []
    inner = world.store.transaction

    def counting() -> AbstractContextManager[UnitOfWork]:
        opened.append(1)
        return inner()

    monkeypatch.setattr(world.store, "transaction", counting)
    first = auth.authenticate(request, now=world.clock.now(), services=STS)
    loads = len(opened)  # the revocation list, once per second
    second = auth.authenticate(request, now=world.clock.now(), services=STS)
    assert (loads, len(opened), first == second) == (1, 1, True)


def test_a_token_issued_at_another_instance_opens_here(world: World) -> None:
    creds = world.role_session(world.role("deploy"))
    here = KeyRing(world.store, bytes(range(32)), clock=world.clock, rng=SystemRandom())
    auth = Authenticator(world.directory, key_ring=here)
    request = signed(creds.access_key_id, creds.secret_access_key, creds.session_token)
    caller = auth.authenticate(request, now=world.clock.now(), services=STS)
    assert caller.arn.endswith("/deploy/alice")
