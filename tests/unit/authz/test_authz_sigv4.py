"""SigV4 verification against botocore as the client and the AWS SigV4 test-suite vectors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bridge.authz.sigv4 import (
    Caller,
    SignedRequest,
    SigningKeyCache,
    SigV4Error,
    canonical_request,
    canonical_uri,
    derive_signing_key,
    verify,
)
from bridge.errors import AuthenticationFailed

KEY = "AKIAEXAMPLEKEY000001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "session-token-opaque-blob"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
BODY = b"Action=ListUsers&Version=2010-05-08"
URL = "http://localhost:5000/"


@dataclass
class KeyStore:
    """What the directory does: a secret for an active key (and its token), else None."""

    secrets: dict[tuple[str, str | None], str] = field(default_factory=dict)
    inactive: set[str] = field(default_factory=set)
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, access_key_id: str, token: str | None) -> str | None:
        self.calls.append((access_key_id, token))
        if access_key_id in self.inactive:
            return None
        return self.secrets.get((access_key_id, token))


def store() -> KeyStore:
    return KeyStore({(KEY, None): SECRET, (KEY, TOKEN): SECRET})


def to_signed(aws: AWSRequest) -> SignedRequest:
    """What the Flask edge builds: raw path and query, headers with Host, exact body."""
    parts = urlsplit(aws.url)
    headers = {"Host": parts.netloc, **dict(aws.headers.items())}
    body = aws.body if isinstance(aws.body, bytes) else b""
    return SignedRequest(aws.method, parts.path, parts.query, headers, body)


def sign_post(
    service: str = "iam",
    *,
    region: str = "eu-west-1",
    url: str = URL,
    token: str | None = None,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    aws = AWSRequest("POST", url, data=BODY, headers={"Content-Type": FORM, **(headers or {})})
    SigV4Auth(Credentials(KEY, secret, token), service, region).add_auth(aws)
    return to_signed(aws)


def presign(
    service: str = "sts",
    *,
    expires: int = 900,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    params = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
    aws = AWSRequest("GET", URL, params=params, headers=headers or {})
    SigV4QueryAuth(Credentials(KEY, SECRET, token), service, "us-east-1", expires).add_auth(aws)
    return to_signed(aws)


def now() -> datetime:
    return datetime.now(UTC)


# --- valid requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "service", "region", "token"),
    [
        (lambda: sign_post("iam"), "iam", "eu-west-1", None),
        (lambda: sign_post("sts", region="us-east-1"), "sts", "us-east-1", None),
        (lambda: sign_post("sts", token=TOKEN), "sts", "eu-west-1", TOKEN),
        (
            lambda: sign_post("iam", url="http://127.0.0.1:8443/?b=2&a=1&a=0"),
            "iam",
            "eu-west-1",
            None,
        ),
        (lambda: presign("sts"), "sts", "us-east-1", None),
        (lambda: presign("sts", token=TOKEN), "sts", "us-east-1", TOKEN),
        (
            lambda: presign("sts", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}),
            "sts",
            "us-east-1",
            None,
        ),
        (
            lambda: sign_post(
                "iam", headers={"X-Amz-Content-SHA256": _sha256(BODY), "X-Extra": "a   b  "}
            ),
            "iam",
            "eu-west-1",
            None,
        ),
    ],
    ids=[
        "iam-post-port-5000",
        "sts-post",
        "sts-post-session-token",
        "iam-post-with-url-query",
        "presigned-get",
        "presigned-get-session-token",
        "presigned-unsigned-payload",
        "signed-content-sha256-and-spaced-header",
    ],
)
def test_botocore_signed_request_verifies(
    build: Callable[[], SignedRequest], service: str, region: str, token: str | None
) -> None:
    keys = store()
    caller = verify(build(), keys, now=now())
    assert (caller.access_key_id, caller.service, caller.region) == (KEY, service, region)
    assert caller.security_token == token
    assert keys.calls == [(KEY, token)]
    assert abs(caller.signed_at - now()) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "path",
    ["/", "//a//b//", "/a/./b/../c", "/a/b/..", "/caf%C3%A9/x%20y/", "/example/%24delete", "/~u"],
    ids=["root", "slashes", "dots", "trailing-dotdot", "encoded-utf8-space", "dollar", "tilde"],
)
def test_path_is_canonicalised_as_botocore_signs_it(path: str) -> None:
    signed = sign_post("iam", url=f"http://localhost:5000{path}")
    assert verify(signed, store(), now=now()).service == "iam"


def test_unsigned_header_added_after_signing_is_ignored() -> None:
    signed = sign_post("iam")
    extra = replace(signed, headers={**signed.headers, "User-Agent": "aws-cli/2", "X-Trace": "1"})
    assert verify(extra, store(), now=now()).access_key_id == KEY


def test_signing_key_cache_gives_the_derived_key_and_stays_bounded() -> None:
    cache = SigningKeyCache(size=2)
    scopes = [
        ("20260101", "eu-west-1", "iam"),
        ("20260102", "eu-west-1", "iam"),
        ("20260101", "us-east-1", "sts"),
    ]
    for scope in scopes:
        assert cache.get(SECRET, *scope) == derive_signing_key(SECRET, *scope)
        assert cache.get(SECRET, *scope) == derive_signing_key(SECRET, *scope)
    assert len(cache) == 2
    assert verify(sign_post("iam"), store(), now=now(), signing_keys=cache).service == "iam"


def test_verify_fills_an_empty_signing_key_cache() -> None:
    """An empty cache is falsy (`__len__`): verify must still use it, not bypass it."""
    cache = SigningKeyCache()
    for _ in range(2):
        verify(sign_post("iam"), store(), now=now(), signing_keys=cache)
    assert len(cache) == 1


def test_derive_signing_key_matches_aws_documented_example() -> None:
    # AWS General Reference, "Examples of how to derive a signing key for Signature Version 4"
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_headers_are_looked_up_case_insensitively_and_repeats_joined() -> None:
    request = SignedRequest("GET", "/", "", {"My-Header": "a", "my-header": "b", "HOST": "h"})
    assert (request.header("MY-HEADER"), request.header("host")) == ("a,b", "h")


# --- errors ---------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _auth(request: SignedRequest, old: str, new: str) -> SignedRequest:
    """Rewrite part of the Authorization header (a regex over its text)."""
    value = re.sub(old, new, request.headers["authorization"], count=1)
    return _header(request, "authorization", value)


def _header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    headers = {k: v for k, v in request.headers.items() if k != name}
    if value is not None:
        headers[name] = value
    return replace(request, headers=headers)


def _query(request: SignedRequest, old: str, new: str) -> SignedRequest:
    return replace(request, query=re.sub(old, new, request.query, count=1))


ERROR_CASES = [
    pytest.param(
        lambda: _header(sign_post(), "authorization", None),
        "MissingAuthenticationToken",
        "missing Authentication Token",
        id="no-auth",
    ),
    pytest.param(
        lambda: _auth(sign_post(), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        "IncompleteSignature",
        "`AWS4-HMAC-SHA1`",
        id="algorithm",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"Credential=[^,]*, ", ""),
        "IncompleteSignature",
        "'Credential'",
        id="no-credential",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"SignedHeaders=[^,]*, ", ""),
        "IncompleteSignature",
        "'SignedHeaders'",
        id="no-signed-headers",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r", Signature=\w+", ""),
        "IncompleteSignature",
        "'Signature'",
        id="no-signature",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"/eu-west-1/iam/", "/iam/"),
        "IncompleteSignature",
        "not of the form",
        id="scope-parts",
    ),
    pytest.param(
        lambda: _auth(sign_post(), "aws4_request", "aws5_request"),
        "IncompleteSignature",
        "not of the form",
        id="scope-terminator",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"/(\d{8})/", "/2026-1-1/"),
        "IncompleteSignature",
        "not of the form",
        id="scope-date",
    ),
    pytest.param(
        lambda: _auth(sign_post(), "host;", ""),
        "IncompleteSignature",
        "must include `host`",
        id="host-unsigned",
    ),
    pytest.param(
        lambda: _auth(sign_post(), "host;", "host;;"),
        "IncompleteSignature",
        "empty header name",
        id="empty-signed-name",
    ),
    pytest.param(
        lambda: _header(sign_post(), "x-amz-date", None),
        "IncompleteSignature",
        "'X-Amz-Date' or a 'Date'",
        id="no-date",
    ),
    pytest.param(
        lambda: _header(sign_post(), "x-amz-date", "2026-01-01T00:00:00Z"),
        "IncompleteSignature",
        "basic format",
        id="bad-date",
    ),
    pytest.param(
        lambda: _header(sign_post(), "x-amz-date", "20261399T000000Z"),
        "IncompleteSignature",
        "not a valid date",
        id="impossible-date",
    ),
    pytest.param(
        lambda: _auth(sign_post(), ";x-amz-date", ""),
        "IncompleteSignature",
        "`x-amz-date` header must be",
        id="date-unsigned",
    ),
    pytest.param(
        lambda: _header(sign_post("sts"), "x-amz-security-token", TOKEN),
        "IncompleteSignature",
        "x-amz-security-token",
        id="token-unsigned",
    ),
    pytest.param(
        lambda: replace(sign_post(), query="X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        "IncompleteSignature",
        "only one auth",
        id="header-and-query",
    ),
    pytest.param(
        lambda: sign_post("s3"),
        "SignatureDoesNotMatch",
        "correct service: 'iam', 'sts'",
        id="wrong-service",
    ),
    pytest.param(
        lambda: sign_post("iam", region=""),
        "SignatureDoesNotMatch",
        "valid region",
        id="empty-region",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"/\d{8}/", "/20200101/"),
        "SignatureDoesNotMatch",
        "'20200101' != ",
        id="scope-date-mismatch",
    ),
    pytest.param(
        lambda: sign_post(secret="not-the-secret"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="wrong-secret",
    ),
    pytest.param(
        lambda: replace(sign_post(), body=BODY + b"&UserName=x"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-body",
    ),
    pytest.param(
        lambda: _header(sign_post(), "content-type", "text/plain"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-signed-header",
    ),
    pytest.param(
        lambda: _header(sign_post(), "host", "localhost:5001"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-host",
    ),
    pytest.param(
        lambda: replace(sign_post(), query="Action=DeleteUser"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-query",
    ),
    pytest.param(
        lambda: replace(sign_post(), method="PUT"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-method",
    ),
    pytest.param(
        lambda: replace(sign_post(), path="/admin"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-path",
    ),
    pytest.param(
        lambda: _auth(sign_post(), r"Signature=\w", "Signature=g"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="tampered-signature",
    ),
    pytest.param(
        lambda: _header(sign_post(), "content-type", None),
        "SignatureDoesNotMatch",
        "`content-type` is not in",
        id="signed-header-dropped",
    ),
    pytest.param(
        lambda: sign_post(headers={"X-Amz-Content-SHA256": _sha256(b"x")}),
        "SignatureDoesNotMatch",
        "does not match the sha256",
        id="content-sha-mismatch",
    ),
    pytest.param(
        lambda: sign_post(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}),
        "SignatureDoesNotMatch",
        "only for presigned",
        id="unsigned-payload-header-form",
    ),
    pytest.param(
        lambda: _query(presign(), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
        "IncompleteSignature",
        "unsupported X-Amz-Algorithm",
        id="presigned-algorithm",
    ),
    pytest.param(
        lambda: _query(presign(), r"&X-Amz-Signature=\w+", ""),
        "IncompleteSignature",
        "X-Amz-Signature",
        id="presigned-no-signature",
    ),
    pytest.param(
        lambda: _query(presign(), r"X-Amz-Credential=[^&]*&", ""),
        "IncompleteSignature",
        "X-Amz-Credential",
        id="presigned-no-credential",
    ),
    pytest.param(
        lambda: _query(presign(), "X-Amz-Expires=", "X-Amz-Expires=9&X-Amz-Expires="),
        "IncompleteSignature",
        "more than once",
        id="presigned-repeated",
    ),
    pytest.param(
        lambda: presign(expires=0),
        "IncompleteSignature",
        "from 1 to 604800",
        id="presigned-expires-zero",
    ),
    pytest.param(
        lambda: presign(expires=604801),
        "IncompleteSignature",
        "from 1 to 604800",
        id="presigned-expires-too-long",
    ),
    pytest.param(
        lambda: _query(presign(), "GetCallerIdentity", "GetSessionToken"),
        "SignatureDoesNotMatch",
        "signature we calculated",
        id="presigned-tampered-query",
    ),
    pytest.param(
        lambda: _query(presign(), "SignedHeaders=host", "SignedHeaders=x-a"),
        "IncompleteSignature",
        "must include `host`",
        id="presigned-no-host",
    ),
]


@pytest.mark.parametrize(
    ("build", "code", "fragment"),
    ERROR_CASES,
)
def test_bad_request_is_refused_with_aws_code(
    build: Callable[[], SignedRequest], code: str, fragment: str
) -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(build(), store(), now=now())
    assert (caught.value.code, caught.value.reason) == (code, code)
    assert fragment in caught.value.message
    assert isinstance(caught.value, AuthenticationFailed)


@pytest.mark.parametrize(
    ("build", "shift", "code", "fragment"),
    [
        (sign_post, timedelta(minutes=16), "SignatureDoesNotMatch", "Signature expired"),
        (sign_post, -timedelta(minutes=16), "SignatureDoesNotMatch", "Signature not yet current"),
        (
            lambda: presign(expires=60),
            timedelta(minutes=2),
            "RequestExpired",
            "Request has expired",
        ),
        (presign, -timedelta(minutes=16), "SignatureDoesNotMatch", "Signature not yet current"),
    ],
    ids=["skew-past", "skew-future", "presigned-expired", "presigned-future"],
)
def test_time_window_is_enforced(
    build: Callable[[], SignedRequest], shift: timedelta, code: str, fragment: str
) -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(build(), store(), now=now() + shift)
    assert caught.value.code == code
    assert caught.value.message.startswith(fragment)


def test_presigned_url_outlives_the_skew_window_until_it_expires() -> None:
    request = presign(expires=3600)
    assert verify(request, store(), now=now() + timedelta(minutes=30)).service == "sts"


def test_skew_message_has_aws_form() -> None:
    request = SignedRequest(
        "POST",
        "/",
        "",
        {
            "Host": "localhost:5000",
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/eu-west-1/iam/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        },
    )
    with pytest.raises(SigV4Error) as caught:
        verify(request, store(), now=datetime(2026, 1, 1, 0, 25, tzinfo=UTC))
    assert caught.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z "
        "(20260101T002500Z - 15 min.)"
    )


@pytest.mark.parametrize(
    ("keys", "token"),
    [
        (KeyStore(), None),
        (KeyStore({(KEY, None): SECRET}, inactive={KEY}), None),
        (KeyStore({(KEY, None): SECRET}), TOKEN),
    ],
    ids=["unknown-key", "inactive-key", "unknown-token"],
)
def test_key_without_secret_is_invalid_client_token(keys: KeyStore, token: str | None) -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(sign_post("sts", token=token), keys, now=now())
    assert caught.value.code == "InvalidClientTokenId"
    assert keys.calls == [(KEY, token)]


def test_lookup_expired_token_error_passes_through() -> None:
    def lookup(access_key_id: str, token: str | None) -> str | None:
        raise SigV4Error("ExpiredToken", f"the security token for `{access_key_id}` has expired")

    with pytest.raises(SigV4Error) as caught:
        verify(sign_post("sts", token=TOKEN), lookup, now=now())
    assert caught.value.code == "ExpiredToken"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(sign_post(), store(), now=datetime(2026, 1, 1))


# --- AWS SigV4 test suite (awslabs aws-sig-v4-test-suite, 20150830T123600Z) ------------

SUITE_KEY = "AKIDEXAMPLE"
SUITE_NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_HOST = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}
SUITE_TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
SUITE_FORM_SHA = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"


def vector(
    name: str,
    signature: str,
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> object:
    return pytest.param(method, path, query, headers or {}, body, signature, id=name)


SUITE = [
    vector("get-vanilla", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    vector(
        "post-vanilla",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        method="POST",
    ),
    vector(
        "get-vanilla-query-order-key-case",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        query="Param2=value2&Param1=value1",
    ),
    vector(
        "get-vanilla-query-order-encoded",
        "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
        query="Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
    ),
    vector(
        "get-vanilla-utf8-query",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        query="ሴ=bar",
    ),
    vector(
        "get-vanilla-query-unreserved",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        query="-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    ),
    vector(
        "get-unreserved",
        "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        path="/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    ),
    vector(
        "get-utf8", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85", path="/ሴ"
    ),
    vector(
        "get-space",
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        path="/example space/",
    ),
    vector(
        "get-special-character",
        "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27",
        path="/example/$delete",
    ),
    vector(
        "post-vanilla-query",
        "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        method="POST",
        query="Param1=value1",
    ),
    vector(
        "post-header-value-case",
        "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        method="POST",
        headers={"My-Header1": "VALUE1"},
    ),
    vector(
        "get-header-value-trim",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        headers={"My-Header1": " value1", "My-Header2": ' "a   b   c"'},
    ),
    vector(
        "get-header-key-duplicate",
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        headers={"My-Header1": "value2,value2,value1"},
    ),
    vector(
        "get-vanilla-with-session-token",
        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
        headers={"X-Amz-Security-Token": SUITE_TOKEN},
    ),
    vector(
        "post-x-www-form-urlencoded",
        "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": "13",
            "X-Amz-Content-Sha256": SUITE_FORM_SHA,
        },
        body=b"Param1=value1",
    ),
]


def _suite_request(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, signature: str
) -> SignedRequest:
    names = sorted({name.lower() for name in {**SUITE_HOST, **headers}})
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={SUITE_KEY}/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    all_headers = {**SUITE_HOST, **headers, "Authorization": authorization}
    return SignedRequest(method, path, query, all_headers, body)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "signature"),
    SUITE,
)
def test_aws_test_suite_vector_verifies(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, signature: str
) -> None:
    request = _suite_request(method, path, query, headers, body, signature)
    token = headers.get("X-Amz-Security-Token")
    keys = KeyStore({(SUITE_KEY, token): SECRET})
    caller = verify(request, keys, now=SUITE_NOW, services=("service",))
    assert (caller.region, caller.service, caller.security_token) == ("us-east-1", "service", token)
    flipped = _suite_request(method, path, query, headers, body, signature[::-1])
    with pytest.raises(SigV4Error, match="signature we calculated"):
        verify(flipped, keys, now=SUITE_NOW, services=("service",))


def _date_header_request(date: str) -> SignedRequest:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, "
        "SignedHeaders=date;host, "
        "Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"
    )
    headers = {"Date": date, "Host": "host.foo.com", "Authorization": authorization}
    return SignedRequest("GET", "/", "", headers)


def test_2011_test_suite_vector_signed_with_the_date_header_verifies() -> None:
    keys = KeyStore({(SUITE_KEY, None): SECRET})
    at = datetime(2011, 9, 9, 23, 40, tzinfo=UTC)
    caller = verify(
        _date_header_request("Mon, 09 Sep 2011 23:36:00 GMT"), keys, now=at, services=("host",)
    )
    assert caller.signed_at == datetime(2011, 9, 9, 23, 36, tzinfo=UTC)
    with pytest.raises(SigV4Error) as caught:
        verify(_date_header_request("yesterday"), keys, now=at, services=("host",))
    assert (caught.value.code, "RFC 7231" in caught.value.message) == ("IncompleteSignature", True)


@pytest.mark.parametrize(
    ("query", "expected_query"),
    [("", ""), ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2")],
    ids=["get-vanilla", "get-vanilla-query-order-key-case"],
)
def test_aws_test_suite_canonical_request(query: str, expected_query: str) -> None:
    request = SignedRequest("GET", "/", query, SUITE_HOST)
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    expected = (
        f"GET\n/\n{expected_query}\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        f"host;x-amz-date\n{empty}"
    )
    assert canonical_request(request, ("host", "x-amz-date"), empty, presigned=False) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("//example//", "/example/"),
        ("/example/..", "/"),
        ("/a/./b/../c/", "/a/c/"),
        ("/%E1%88%B4", "/%25E1%2588%25B4"),
        ("/a%2Fb", "/a%252Fb"),
    ],
    ids=["empty", "root", "slashes", "relative", "dots-trailing", "encoded-twice", "encoded-slash"],
)
def test_canonical_uri(raw: str, expected: str) -> None:
    assert canonical_uri(raw) == expected


def test_caller_is_a_frozen_record() -> None:
    caller = verify(sign_post("iam"), store(), now=now())
    assert isinstance(caller, Caller)
    with pytest.raises(AttributeError):
        caller.region = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned-payload-implied"),
        pytest.param({"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, id="unsigned-payload-signed"),
    ],
)
def test_a_presigned_url_never_vouches_for_a_body(headers: dict[str, str]) -> None:
    """With the body given by its hash (as `/v1/authorize` gets it), a presigned URL signed
    with `UNSIGNED-PAYLOAD` holds for an empty body only."""
    signed = presign("sts", headers=headers)
    empty = replace(signed, payload_sha256=_sha256(b""))
    assert verify(empty, store(), now=now()).service == "sts"
    with_body = replace(signed, payload_sha256=_sha256(b"Action=DeleteUser"))
    with pytest.raises(AuthenticationFailed) as refused:
        verify(with_body, store(), now=now())
    assert refused.value.code == "SignatureDoesNotMatch"
