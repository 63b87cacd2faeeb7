"""`Judge`: the subject caller authenticated from SigV4 parts or a bearer token, decided,
audited and noted for last accessed; requests signed by botocore for a made-up service."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import pytest
from authz_sessions import ACCOUNT, World, allow, document
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bridge.audit import AuditLog, MemorySink, StoreSink
from bridge.authz.authenticate import Authenticator
from bridge.authz.decide import Authorizer
from bridge.authz.judge import (
    Asker,
    BearerSubject,
    Judge,
    Judgement,
    Question,
    SigV4Subject,
    Subject,
    arn_region,
    request_facts,
)
from bridge.authz.last_access import LastAccess
from bridge.authz.sigv4 import SignedRequest
from bridge.credentials.issue import IssuedCredentials
from bridge.credentials.revocation import Revocations
from bridge.storage.interfaces import Role
from bridge.storage.sql import SqlStore

ITEM = f"arn:aws:items:eu-west-1:{ACCOUNT}:item/1"
BODY = b'{"name": "x"}'
SERVICE = Asker(f"arn:aws:iam::{ACCOUNT}:user/items-service", "req-1")
DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"
POLICY = document(
    allow(["items:GetItem", "items:PutItem"], f"arn:aws:items:*:{ACCOUNT}:item/*"),
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "items:DeleteItem", "Resource": "*"},
    allow("items:Paint", "*", StringEquals={"items:Color": "red"}),
)


@dataclass
class Bench:
    world: World
    role: Role
    creds: IssuedCredentials
    sink: MemorySink
    last_access: LastAccess
    revocations: Revocations

    def judge(self, audit: AuditLog | None = None) -> Judge:
        auth = Authenticator(
            self.world.directory, key_ring=self.world.key_ring, revocations=self.revocations
        )
        return Judge(
            auth,
            Authorizer(self.world.directory),
            audit=audit or AuditLog(self.sink),
            last_access=self.last_access,
            clock=self.world.clock,
        )

    def ask(self, subject: Subject, *questions: Question) -> Judgement:
        return self.judge().judge(subject, questions or (Question("items:GetItem", ITEM),), SERVICE)


@pytest.fixture
def bench() -> Bench:
    world = World()
    role = world.role("reader", POLICY)
    return Bench(
        world,
        role,
        world.role_session(role, "alice", source_identity="alice@example.com"),
        MemorySink(),
        LastAccess(world.store),
        Revocations(world.store, clock=world.clock),
    )


def sigv4(
    creds: IssuedCredentials,
    *,
    secret: str | None = None,
    method: str = "POST",
    body: bytes = BODY,
    claimed: bytes | None = None,
) -> SigV4Subject:
    """Signed by botocore for the made-up service `items`; the body passed as its hash."""
    credentials = Credentials(
        creds.access_key_id, secret or creds.secret_access_key, creds.session_token
    )
    aws = AWSRequest(method, "http://svc.internal/items/1?b=2&a=1", data=body)
    SigV4Auth(credentials, "items", "eu-west-1").add_auth(aws)
    parts = urlsplit(aws.url)
    headers = {"Host": parts.netloc, **dict(aws.headers.items())}
    digest = hashlib.sha256(body if claimed is None else claimed).hexdigest()
    return SigV4Subject(
        SignedRequest(method, parts.path, parts.query, headers, payload_sha256=digest)
    )


def unsigned(creds: IssuedCredentials) -> SigV4Subject:
    request = sigv4(creds).request
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    return SigV4Subject(replace(request, headers=headers))


def tampered(creds: IssuedCredentials) -> BearerSubject:
    token = creds.session_token
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    return BearerSubject(token[:middle] + flipped + token[middle + 1 :])


@pytest.mark.parametrize(
    ("make", "action", "decision", "matched_sids"),
    [
        pytest.param(sigv4, "items:GetItem", "allowed", [None], id="sigv4-allowed"),
        pytest.param(
            lambda c: sigv4(c, method="GET", body=b""), "items:PutItem", "allowed", [None],
            id="sigv4-get-empty-body",
        ),
        pytest.param(
            sigv4, "items:DeleteItem", "explicitDeny", ["NoDelete"],
            id="sigv4-explicit-deny",
        ),
        pytest.param(sigv4, "items:ListItems", "implicitDeny", [], id="sigv4-implicit"),
        pytest.param(
            lambda c: BearerSubject(c.session_token), "items:GetItem", "allowed", [None],
            id="bearer-allowed",
        ),
        pytest.param(
            lambda c: BearerSubject(c.session_token), "items:DeleteItem", "explicitDeny",
            ["NoDelete"], id="bearer-explicit-deny",
        ),
    ],
)  # fmt: skip
def test_an_authenticated_caller_is_decided_by_its_policies(
    bench: Bench,
    make: Callable[[IssuedCredentials], Subject],
    action: str,
    decision: str,
    matched_sids: list[str | None],
) -> None:
    judgement = bench.ask(make(bench.creds), Question(action, ITEM))
    assert judgement.failure is None and judgement.caller is not None
    assert judgement.caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice"
    verdict = judgement.verdicts[0]
    assert verdict.decision.effect == decision
    assert [m.sid for m in verdict.decision.matched] == matched_sids


@pytest.mark.parametrize(
    ("make", "code", "fragment"),
    [
        pytest.param(
            lambda c: sigv4(c, secret="x" * 40), "SignatureDoesNotMatch", "does not match",
            id="wrong-secret",
        ),
        pytest.param(
            lambda c: sigv4(c, claimed=b"other body"), "SignatureDoesNotMatch", "does not match",
            id="body-hash-differs",
        ),
        pytest.param(unsigned, "MissingAuthenticationToken", "missing", id="unsigned"),
        pytest.param(tampered, "InvalidClientTokenId", "invalid", id="tampered-token"),
        pytest.param(
            lambda c: BearerSubject("BRG1.nope"), "InvalidClientTokenId", "invalid",
            id="garbage-token",
        ),
    ],
)  # fmt: skip
def test_a_caller_that_cannot_be_authenticated_is_denied_with_the_reason(
    bench: Bench, make: Callable[[IssuedCredentials], Subject], code: str, fragment: str
) -> None:
    judgement = bench.ask(make(bench.creds))
    assert judgement.caller is None and judgement.failure is not None
    assert (judgement.failure.reason, judgement.verdicts[0].decision.effect) == (
        code,
        "implicitDeny",
    )
    assert fragment in judgement.failure.message.lower()


@pytest.mark.parametrize("form", ["sigv4", "bearer"])
def test_expired_and_revoked_sessions_are_denied(bench: Bench, form: str) -> None:
    subject = sigv4(bench.creds) if form == "sigv4" else BearerSubject(bench.creds.session_token)
    bench.revocations.revoke_session(bench.creds.access_key_id)
    bench.world.clock.advance(2)  # past the revocation cache
    revoked = bench.ask(subject)
    assert revoked.failure is not None and revoked.failure.reason == "InvalidClientTokenId"
    assert "revoked" in revoked.failure.message
    later = bench.world.role_session(bench.role, "bob", duration_seconds=900)
    bench.world.clock.advance(901)
    expired = bench.ask(BearerSubject(later.session_token))
    assert expired.failure is not None and expired.failure.reason == "ExpiredToken"


def test_context_keys_decide_conditions_and_missing_ones_are_named(bench: Bench) -> None:
    subject = BearerSubject(bench.creds.session_token)
    red, blue, missing = bench.ask(
        subject,
        Question("items:Paint", ITEM, {"items:Color": ["red"]}),
        Question("items:Paint", ITEM, {"items:Color": "blue"}),
        Question("items:Paint", ITEM),
    ).verdicts
    assert [v.decision.effect for v in (red, blue, missing)] == [
        "allowed",
        "implicitDeny",
        "implicitDeny",
    ]
    assert "items:Color" in missing.decision.missing_context


def test_every_decision_is_one_audit_event(bench: Bench) -> None:
    subject = BearerSubject(bench.creds.session_token)
    bench.ask(
        subject,
        Question("items:GetItem", ITEM, {"aws:SourceIp": "10.0.0.1", "items:ApiToken": "s3cr3t"}),
        Question("items:DeleteItem", ITEM),
    )
    bench.ask(tampered(bench.creds))
    events = bench.sink.events
    assert [(e.event_name, e.result, e.error_code) for e in events] == [
        ("Authorize", "success", None),
        ("Authorize", "failure", "AccessDenied"),
        ("Authorize", "failure", "InvalidClientTokenId"),
    ]
    first = events[0]
    assert first.principal == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice"
    assert first.source_ip == "10.0.0.1"
    assert first.details == {
        "action": "items:GetItem",
        "resource": ITEM,
        "decision": "allowed",
        "service": SERVICE.arn,
        "access_key_id": bench.creds.access_key_id,
    }
    assert first.parameters["context"]["items:ApiToken"] == "***"
    assert events[2].principal is None


def test_a_down_audit_store_still_answers_and_counts_the_loss(bench: Bench) -> None:
    dead = SqlStore(DEAD_POSTGRES, clock=bench.world.clock, connect_timeout=1)
    audit = AuditLog(StoreSink(dead, logger=logging.getLogger("test.audit")))
    try:
        judgement = bench.judge(audit).judge(
            BearerSubject(bench.creds.session_token), (Question("items:GetItem", ITEM),), SERVICE
        )
    finally:
        dead.close()
    assert (judgement.verdicts[0].decision.effect, audit.lost()) == ("allowed", 1)


def test_last_access_is_written_once_per_interval_for_the_role(bench: Bench) -> None:
    subject = BearerSubject(bench.creds.session_token)
    bench.ask(subject, Question("items:GetItem", ITEM), Question("items:DeleteItem", ITEM))
    first = bench.world.clock.now()
    bench.world.clock.advance(30)
    bench.ask(subject)
    assert [(u.entity_id, u.namespace, u.last_authenticated, u.region) for u in
            bench.last_access.uses([bench.role.role_id])] == [
        (bench.role.role_id, "items", first, "eu-west-1")
    ]  # fmt: skip
    bench.world.clock.advance(31)
    bench.ask(subject)
    assert bench.last_access.uses([bench.role.role_id])[0].last_authenticated == (
        bench.world.clock.now()
    )


def test_denied_but_authenticated_attempts_count_and_failures_do_not(bench: Bench) -> None:
    bench.ask(tampered(bench.creds))
    assert bench.last_access.uses([bench.role.role_id]) == []
    bench.ask(BearerSubject(bench.creds.session_token), Question("s3:GetObject", "*"))
    assert [u.namespace for u in bench.last_access.uses([bench.role.role_id])] == ["s3"]


def test_a_user_session_counts_for_the_user_and_root_is_not_tracked(bench: Bench) -> None:
    user = bench.world.user("carol", POLICY)
    session = bench.world.user_session(user, "user-session")
    root = bench.world.user_session(None, "user-session")
    bench.ask(BearerSubject(session.session_token))
    bench.ask(BearerSubject(root.session_token))
    assert [u.entity_arn for u in bench.last_access.uses([user.user_id, ACCOUNT])] == [
        f"arn:aws:iam::{ACCOUNT}:user/carol"
    ]


def test_a_down_store_for_last_access_is_counted_not_raised(bench: Bench) -> None:
    dead = SqlStore(DEAD_POSTGRES, clock=bench.world.clock, connect_timeout=1)
    bench.last_access = LastAccess(dead, logger=logging.getLogger("test.last_access"))
    try:
        judgement = bench.ask(BearerSubject(bench.creds.session_token))
    finally:
        dead.close()
    assert (judgement.verdicts[0].decision.effect, bench.last_access.failures) == ("allowed", 1)


@pytest.mark.parametrize(
    ("resource", "region"),
    [
        pytest.param(ITEM, "eu-west-1", id="regional"),
        pytest.param("arn:aws:s3:::bucket/key", "", id="global"),
        pytest.param("*", "", id="star"),
    ],
)
def test_the_bearer_region_is_the_resource_arn_region(resource: str, region: str) -> None:
    assert arn_region(resource) == region


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param({}, (None, False, None), id="none"),
        pytest.param(
            {"aws:SourceIp": "10.0.0.1", "aws:SecureTransport": True, "aws:UserAgent": "ua"},
            ("10.0.0.1", True, "ua"),
            id="all",
        ),
        pytest.param(
            {"AWS:sourceip": ["10.0.0.1"], "aws:securetransport": "TRUE"},
            (None, True, None),
            id="list-ip-and-text-bool",
        ),
    ],
)
def test_request_facts_come_from_the_request_keys(
    bench: Bench, context: dict[str, object], expected: tuple[object, ...]
) -> None:
    facts = request_facts(bench.world.clock.now(), context)
    assert (facts.source_ip, facts.secure_transport, facts.user_agent) == expected
