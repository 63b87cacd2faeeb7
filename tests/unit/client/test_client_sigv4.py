"""The client's stdlib SigV4 signer gives botocore's `SigV4Auth` canonical request and
signature for the same inputs and time, and the bridge's own verifier accepts it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from bridge.authz.sigv4 import SignedRequest, verify
from bridge.authz.sigv4_parse import SigV4Error
from bridge.client.sigv4 import Credentials, canonical_request, host_of, sign

NOW = datetime(2026, 11, 27, 23, 30, 5, tzinfo=UTC)
KEY = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
TEMPORARY = Credentials("ASIAIOSFODNN7EXAMPLE", "secret/with+chars", "BRG1.session-token")

CASES = [
    pytest.param("GET", "http://svc.internal/items/1", {}, b"", KEY, id="get"),
    pytest.param(
        "POST",
        "https://bridge.example:8443/v1/authorize",
        {"Content-Type": "application/json"},
        b'{"action":"items:GetItem"}',
        TEMPORARY,
        id="post-json-with-session-token",
    ),
    pytest.param(
        "GET",
        "http://svc.internal:80/a/./b/../c//d%20e/?z=1&a=x%20y&a=b&empty=",
        {"X-Custom": "  spaced    out  value "},
        b"",
        KEY,
        id="dot-segments-encoded-path-sorted-query",
    ),
    pytest.param(
        "PUT",
        "http://127.0.0.1:5123/items/%E2%9C%93",
        {"User-Agent": "test/1", "X-Amzn-Trace-Id": "Root=1", "Content-Type": "text/plain"},
        "\u2713 body".encode(),
        KEY,
        id="unsigned-headers-left-out",
    ),
]


def _botocore(
    method: str, url: str, headers: dict[str, str], body: bytes, creds: Credentials
) -> tuple[str, str]:
    """botocore's canonical request and Authorization header, at `NOW`."""
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    auth = SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
        "items",
        "eu-west-1",
    )
    auth._modify_request_before_signing(request)
    creq = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, creq), request)
    auth._inject_signature_to_request(request, signature)
    return creq, str(request.headers["Authorization"])


@pytest.mark.parametrize(("method", "url", "headers", "body", "creds"), CASES)
def test_same_canonical_request_and_signature_as_botocore(
    method: str, url: str, headers: dict[str, str], body: bytes, creds: Credentials
) -> None:
    signed = sign(
        method, url, headers, body, credentials=creds, region="eu-west-1", service="items", now=NOW
    )
    expected_creq, expected_auth = _botocore(method, url, headers, body, creds)
    mine, _ = canonical_request(method, url, signed, _sha256(body))
    assert mine == expected_creq
    assert signed["Authorization"] == expected_auth
    assert signed["X-Amz-Date"] == "20261127T233005Z"
    assert signed.get("X-Amz-Security-Token") == creds.session_token


@pytest.mark.parametrize(("method", "url", "headers", "body", "creds"), CASES)
def test_the_bridge_verifier_accepts_the_signature(
    method: str, url: str, headers: dict[str, str], body: bytes, creds: Credentials
) -> None:
    signed = sign(
        method, url, headers, body, credentials=creds, region="eu-west-1", service="bridge", now=NOW
    )
    parts = urlsplit(url)
    request = SignedRequest(method, parts.path, parts.query, signed, body)
    caller = verify(
        request, lambda key, token: creds.secret_access_key, now=NOW, services={"bridge"}
    )
    assert (caller.access_key_id, caller.service, caller.security_token) == (
        creds.access_key_id,
        "bridge",
        creds.session_token,
    )


def test_a_tampered_body_does_not_verify() -> None:
    url = "http://bridge.internal/v1/authorize"
    signed = sign("POST", url, {}, b"{}", credentials=KEY, region="r", service="bridge", now=NOW)
    request = SignedRequest("POST", "/v1/authorize", "", signed, b'{"x":1}')
    with pytest.raises(SigV4Error) as caught:
        verify(request, lambda key, token: KEY.secret_access_key, now=NOW, services={"bridge"})
    assert caught.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("http://Svc.Internal:80/x", "svc.internal", id="default-http-port"),
        pytest.param("https://svc:443/", "svc", id="default-https-port"),
        pytest.param("http://svc:8080/", "svc:8080", id="other-port"),
        pytest.param("http://[::1]:9000/", "[::1]:9000", id="ipv6"),
    ],
)
def test_host_header_from_url(url: str, host: str) -> None:
    assert host_of(url) == host


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign(
            "GET",
            "http://x/",
            {},
            b"",
            credentials=KEY,
            region="r",
            service="s",
            now=NOW.replace(tzinfo=None),
        )


def test_credentials_repr_hides_the_secret_and_token() -> None:
    assert "secret" not in repr(TEMPORARY) and "BRG1" not in repr(TEMPORARY)


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
