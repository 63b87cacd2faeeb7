"""The WSGI middleware's own decisions, made before or without the bridge: route rules,
missing credentials, oversized bodies, an unreachable bridge (fail closed), and what
it forwards of a SigV4 request. Allow and deny by policy are in
tests/e2e/test_e2e_middleware.py against a live bridge."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.test import Client, EnvironBuilder

from bridge.client import AuthorizeClient, AuthorizeMiddleware, Denial, Rule, SigV4Caller
from tests.support.peer_process import free_port

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-1/items/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64
)
RULES = [
    Rule(["GET"], "/items/{item_id}", "items:GetItem", "arn:aws:items:::item/{item_id}"),
    Rule(["PUT", "post"], "/items/{item_id}", "items:PutItem", "arn:aws:items:::item/{item_id}"),
    Rule([], "/shops/{shop}/items/{item_id}", "items:Any", "arn:aws:items:::{shop}/{item_id}"),
]


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"reached the app"]


def down_client() -> AuthorizeClient:
    """A client for a bridge that is not there (nothing listens on the port)."""
    return AuthorizeClient(
        f"http://127.0.0.1:{free_port()}",
        access_key_id="AKIDSERVICE",
        secret_access_key="service-secret",
        timeout=1.0,
    )


def protected(**options: Any) -> Client:
    return Client(AuthorizeMiddleware(app, down_client(), RULES, **options))


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        pytest.param("GET", "/items/42", ("items:GetItem", "arn:aws:items:::item/42"), id="get"),
        pytest.param("POST", "/items/7", ("items:PutItem", "arn:aws:items:::item/7"), id="post"),
        pytest.param("DELETE", "/items/7", None, id="method-without-rule"),
        pytest.param("GET", "/items/7/extra", None, id="longer-path"),
        pytest.param("GET", "/items/", None, id="empty-parameter"),
        pytest.param(
            "PATCH", "/shops/s1/items/i2", ("items:Any", "arn:aws:items:::s1/i2"), id="any-method"
        ),
    ],
)
def test_rule_matching(method: str, path: str, expected: tuple[str, str] | None) -> None:
    found = next(
        ((rule, params) for rule in RULES if (params := rule.match(method, path)) is not None),
        None,
    )
    if expected is None:
        assert found is None
        return
    assert found is not None
    rule, params = found
    assert (rule.action, rule.resource.format(**params)) == expected


def test_resource_template_must_use_path_parameters() -> None:
    with pytest.raises(ValueError, match="uses `shop`, not in the path"):
        Rule(["GET"], "/items/{item_id}", "items:GetItem", "arn:x:{shop}/{item_id}")


def test_route_without_rule_is_refused_by_default() -> None:
    response = protected().get("/elsewhere", headers={"Authorization": "Bearer BRG1.x"})
    assert response.status_code == 403
    assert response.json == {
        "error": "AccessDenied",
        "message": "no authorization rule for `GET /elsewhere`",
    }


def test_route_without_rule_passes_when_allowed() -> None:
    response = protected(allow_unmatched=True).get("/elsewhere")
    assert (response.status_code, response.data) == (200, b"reached the app")


@pytest.mark.parametrize("method", ["HEAD", "DELETE", "OPTIONS"])
def test_a_protected_path_is_not_let_through_with_another_method(method: str) -> None:
    """`allow_unmatched` is for paths no rule names: HEAD /items/42 would run the GET view."""
    response = protected(allow_unmatched=True).open("/items/42", method=method)
    assert response.status_code == 403
    assert response.data != b"reached the app"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-authorization"),
        pytest.param({"Authorization": "Basic dXNlcjpwdw=="}, id="basic"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"Authorization": "AWS4-HMAC-SHA1 Credential=x"}, id="other-algorithm"),
    ],
)
def test_no_credentials_is_401(headers: dict[str, str]) -> None:
    response = protected().get("/items/1", headers=headers)
    assert response.status_code == 401
    assert response.json is not None and response.json["error"] == "MissingAuthenticationToken"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer BRG1.token"}, id="bearer"),
        pytest.param({"Authorization": SIGNED, "X-Amz-Date": "20261127T000000Z"}, id="sigv4"),
    ],
)
def test_bridge_down_fails_closed_with_503(headers: dict[str, str]) -> None:
    response = protected().put("/items/1", data=b"payload", headers=headers)
    assert response.status_code == 503
    assert response.json == {
        "error": "ServiceUnavailable",
        "message": "the authorization service is unavailable",
    }


def test_body_over_the_limit_is_413_before_asking_the_bridge() -> None:
    response = protected(max_body_bytes=4).put(
        "/items/1", data=b"12345", headers={"Authorization": SIGNED}
    )
    assert response.status_code == 413


def test_on_deny_renders_the_refusal() -> None:
    seen: list[Denial] = []

    def on_deny(
        denial: Denial, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        seen.append(denial)
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [denial.message.encode()]

    response = protected(on_deny=on_deny).get("/items/1")
    assert response.status_code == 418
    assert [(d.status, d.error) for d in seen] == [(401, "MissingAuthenticationToken")]


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        pytest.param({"REQUEST_URI": "/items/a%2Fb%20c?x=1"}, "/items/a%2Fb%20c", id="request-uri"),
        pytest.param(
            {"RAW_URI": "/items/a%20b?x=1", "REQUEST_URI": "/other"},
            "/items/a%20b",
            id="raw-uri-first",
        ),
        pytest.param({"REQUEST_URI": "http://svc:81/items/9?x=1"}, "/items/9", id="absolute-form"),
        pytest.param({}, "/app/items/a%20b%C3%A9:@", id="rebuilt-from-path-info"),
    ],
)
def test_sigv4_caller_from_wsgi(extra: dict[str, str], path: str) -> None:
    builder = EnvironBuilder(
        method="PUT",
        path="/items/a b\u00e9:@",
        base_url="http://svc.internal:8080/app",
        query_string="x=1",
        data=b"the body",
        headers={
            "Authorization": SIGNED,
            "X-Amz-Date": "20261127T000000Z",
            "Content-Type": "text/plain",
            "Cookie": "session=private",
            "X-Forwarded-For": "10.0.0.1",
        },
    )
    environ = builder.get_environ()
    environ.pop("REQUEST_URI", None)
    environ.pop("RAW_URI", None)
    environ.update(extra)
    caller = SigV4Caller.from_wsgi(environ, b"the body")
    assert caller.method == "PUT"
    assert caller.path == path
    assert caller.query == "x=1"
    assert caller.body_sha256 == hashlib.sha256(b"the body").hexdigest()
    assert {name.lower(): value for name, value in caller.headers.items()} == {
        "authorization": SIGNED,
        "host": "svc.internal:8080",
        "x-amz-date": "20261127T000000Z",
        "content-type": "text/plain",
    }
    assert "Authorization" not in repr(caller) and "AKID" not in repr(caller)
    wire = caller.to_json()["sigv4"]
    assert json.loads(json.dumps(wire))["path"] == path


def test_host_falls_back_to_the_server_name() -> None:
    environ = EnvironBuilder(path="/x", base_url="https://svc.internal:443").get_environ()
    del environ["HTTP_HOST"]
    assert SigV4Caller.from_wsgi(environ, b"").headers["Host"] == "svc.internal"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://bridge/", id="scheme"),
        pytest.param("bridge.internal", id="relative"),
        pytest.param("file:///etc/passwd", id="file"),
    ],
)
def test_client_refuses_a_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="must be an absolute http or https url"):
        AuthorizeClient(url, access_key_id="AKID", secret_access_key="s")


def test_client_repr_hides_the_secret() -> None:
    client = AuthorizeClient(
        "http://b", access_key_id="AKID", secret_access_key="very-secret", session_token="tok"
    )
    assert "very-secret" not in repr(client) and "tok" not in repr(client)
