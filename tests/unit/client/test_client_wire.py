"""What the client puts on the wire and how it reads answers the real bridge cannot be made
to give on demand (5xx, garbage, a short batch), against a scripted HTTP peer. The
signature of every call is checked with the bridge's own SigV4 verifier. Real decisions
are in tests/e2e/test_e2e_middleware.py."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from bridge.authz.sigv4 import SignedRequest, verify
from bridge.client import (
    AuthorizeClient,
    BearerCaller,
    BridgeRefused,
    BridgeUnavailable,
    Check,
    SigV4Caller,
)
from tests.support.wsgi_thread import serving

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SECRET = "service-secret-key"
PRINCIPAL = {
    "arn": "arn:aws:sts::123456789012:assumed-role/reader/alice",
    "type": "AssumedRole",
    "account_id": "123456789012",
    "principal_id": "AROAEXAMPLE:alice",
    "access_key_id": "ASIAEXAMPLE",
    "session_name": "alice",
    "source_identity": None,
    "tags": {"team": "core"},
    "expiration": "2027-01-15T08:00:00Z",
}


def allowed(request_id: str = "req-1") -> dict[str, Any]:
    return {
        "decision": "allowed",
        "reason": None,
        "error_code": None,
        "principal": PRINCIPAL,
        "matched": [
            {"policy": "inline:reader/read", "statement": 0, "sid": None, "effect": "Allow"}
        ],
        "missing_context": [],
        "request_id": request_id,
    }


@dataclass
class Peer:
    """Answers each call with the next scripted (status, body) and records what came."""

    answers: list[tuple[int, bytes]] = field(default_factory=list)
    seen: list[tuple[SignedRequest, Any]] = field(default_factory=list)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        request = SignedRequest(
            environ["REQUEST_METHOD"],
            environ["REQUEST_URI"],
            environ["QUERY_STRING"],
            headers,
            body,
        )
        self.seen.append((request, json.loads(body)))
        status, payload = (
            self.answers.pop(0) if self.answers else (200, json.dumps(allowed()).encode())
        )
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [payload]


@pytest.fixture
def peer() -> Iterator[tuple[Peer, AuthorizeClient]]:
    scripted = Peer()
    with serving(scripted) as url:
        client = AuthorizeClient(
            url, access_key_id="AKIDSERVICE", secret_access_key=SECRET, region="eu-west-1"
        )
        yield scripted, client


def test_single_call_is_signed_for_bridge_and_follows_the_contract(
    peer: tuple[Peer, AuthorizeClient],
) -> None:
    scripted, client = peer
    caller = SigV4Caller(
        "GET", "/items/1", "a=b", {"Host": "svc", "Authorization": "AWS4..."}, "ab"
    )
    decision = client.authorize(caller, "items:GetItem", "arn:i/1", {"aws:SourceIp": "10.0.0.1"})
    request, body = scripted.seen[0]
    signer = verify(request, lambda key, token: SECRET, now=datetime.now(UTC), services={"bridge"})
    assert (signer.access_key_id, request.path) == ("AKIDSERVICE", "/v1/authorize")
    assert body == {
        "caller": {
            "sigv4": {
                "method": "GET",
                "path": "/items/1",
                "query": "a=b",
                "headers": {"Host": "svc", "Authorization": "AWS4..."},
                "body_sha256": "ab",
            }
        },
        "action": "items:GetItem",
        "resource": "arn:i/1",
        "context": {"aws:SourceIp": "10.0.0.1"},
    }
    assert decision.allowed and decision.request_id == "req-1"
    assert decision.principal is not None and decision.principal.tags == {"team": "core"}
    assert decision.principal.expiration == datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert [m.policy for m in decision.matched] == ["inline:reader/read"]


def test_batch_call_maps_results_in_order(peer: tuple[Peer, AuthorizeClient]) -> None:
    scripted, client = peer
    results = [
        {
            "action": "a:One",
            "resource": "r1",
            "decision": "allowed",
            "matched": [],
            "missing_context": [],
        },
        {
            "action": "a:Two",
            "resource": "r2",
            "decision": "explicitDeny",
            "matched": [],
            "missing_context": ["aws:x"],
        },
    ]
    envelope = {
        "principal": PRINCIPAL,
        "reason": None,
        "error_code": None,
        "results": results,
        "request_id": "b",
    }
    scripted.answers.append((200, json.dumps(envelope).encode()))
    decisions = client.authorize_many(
        BearerCaller("BRG1.t"), [Check("a:One", "r1"), Check("a:Two", "r2", {"k": ["v"]})]
    )
    assert scripted.seen[0][1] == {
        "caller": {"bearer": "BRG1.t"},
        "requests": [
            {"action": "a:One", "resource": "r1"},
            {"action": "a:Two", "resource": "r2", "context": {"k": ["v"]}},
        ],
    }
    assert [(d.decision, d.action, d.missing_context) for d in decisions] == [
        ("allowed", "a:One", ()),
        ("explicitDeny", "a:Two", ("aws:x",)),
    ]


def test_bearer_decisions_are_cached_and_sigv4_ones_never(
    peer: tuple[Peer, AuthorizeClient],
) -> None:
    scripted, client = peer
    bearer = BearerCaller("BRG1.t")
    signed = SigV4Caller("GET", "/items/1", "", {"Host": "svc"}, "ab")
    for _ in range(3):
        client.authorize(bearer, "a:One", "r1")
        client.authorize(signed, "a:One", "r1")
    kinds = [next(iter(body["caller"])) for _, body in scripted.seen]
    assert kinds == ["bearer", "sigv4", "sigv4", "sigv4"]
    assert len(client.cache) == 1


def test_batch_asks_only_for_what_is_not_cached(peer: tuple[Peer, AuthorizeClient]) -> None:
    scripted, client = peer
    bearer = BearerCaller("BRG1.t")
    client.authorize(bearer, "a:One", "r1")
    decisions = client.authorize_many(bearer, [Check("a:One", "r1"), Check("a:Two", "r2")])
    assert [body.get("action") for _, body in scripted.seen] == ["a:One", "a:Two"]
    assert [d.action for d in decisions] == ["a:One", "a:Two"]


@pytest.mark.parametrize(
    ("status", "payload", "error", "fragment"),
    [
        pytest.param(
            500, b'{"error":"InternalFailure"}', BridgeUnavailable, "answered 500", id="500"
        ),
        pytest.param(502, b"<html>bad gateway</html>", BridgeUnavailable, "answered 502", id="502"),
        pytest.param(200, b"not json", BridgeUnavailable, "not JSON", id="garbage"),
        pytest.param(200, b"[1]", BridgeUnavailable, "not an object", id="array"),
        pytest.param(
            200,
            b'{"decision":"maybe"}',
            BridgeUnavailable,
            "unknown decision `maybe`",
            id="bad-decision",
        ),
        pytest.param(200, b"{}", BridgeUnavailable, "not a decision", id="empty-object"),
        pytest.param(
            403,
            b'{"error":"AccessDenied","message":"no bridge:Authorize","request_id":"r9"}',
            BridgeRefused,
            "403 `AccessDenied`: no bridge:Authorize",
            id="403",
        ),
        pytest.param(401, b"", BridgeRefused, "401 `Unknown`", id="401-without-body"),
    ],
)
def test_answers_without_a_decision_raise(
    peer: tuple[Peer, AuthorizeClient],
    status: int,
    payload: bytes,
    error: type[Exception],
    fragment: str,
) -> None:
    scripted, client = peer
    scripted.answers.append((status, payload))
    with pytest.raises(error, match=fragment.replace("`", ".")):
        client.authorize(BearerCaller("BRG1.t"), "a:One", "r1")
    assert len(client.cache) == 0


def test_short_batch_answer_raises(peer: tuple[Peer, AuthorizeClient]) -> None:
    scripted, client = peer
    envelope: dict[str, Any] = {"principal": None, "results": [], "request_id": "b"}
    scripted.answers.append((200, json.dumps(envelope).encode()))
    with pytest.raises(BridgeUnavailable, match="0 results for 2 requests"):
        client.authorize_many(BearerCaller("t"), [Check("a", "r"), Check("b", "r")])


def test_refused_error_carries_the_request_id(peer: tuple[Peer, AuthorizeClient]) -> None:
    scripted, client = peer
    scripted.answers.append(
        (400, b'{"error":"ValidationError","message":"`action` missing","request_id":"r7"}')
    )
    with pytest.raises(BridgeRefused) as caught:
        client.authorize(BearerCaller("t"), "", "r")
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        400,
        "ValidationError",
        "r7",
    )
