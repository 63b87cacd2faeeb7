"""UrlFetcher against a real local HTTP server: url rule, size cap, timeout, redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from test_verify_oidc_support import LocalServer, Route, serve

from bridge.verify.errors import IdPCommunicationError
from bridge.verify.http import MAX_REDIRECTS, UrlFetcher, is_loopback_host, url_refusal


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as running:
        yield running


URLS = [
    ("https-public", "https://idp.example.com/keys", None),
    ("https-with-path", "https://idp.example.com/tenant/v2", None),
    ("http-ipv4-loopback", "http://127.0.0.1:9400", None),
    ("http-other-loopback", "http://127.8.9.10/x", None),
    ("http-ipv6-loopback", "http://[::1]:9400/x", None),
    ("http-localhost", "http://LOCALHOST:9400", None),
    ("http-public", "http://idp.example.com", "only `https://`"),
    ("http-private-address", "http://10.0.0.1", "only `https://`"),
    ("http-localhost-lookalike", "http://localhost.evil.example", "only `https://`"),
    ("file-scheme", "file:///etc/passwd", "names no host"),
    ("ftp", "ftp://127.0.0.1/x", "only `https://`"),
    ("no-host", "https:///path", "names no host"),
    ("bad-port", "https://idp.example.com:99999999", "not a valid url"),
]


@pytest.mark.parametrize(("url", "fragment"), [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_url_rule(url: str, fragment: str | None) -> None:
    reason = url_refusal(url)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None and fragment in reason


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("10.0.0.1", False), (None, False)],
    ids=["ipv4", "ipv6", "name", "private", "none"],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_refused_url_is_never_requested() -> None:
    with pytest.raises(
        IdPCommunicationError, match=re.escape("refused to fetch `http://idp.example.com`")
    ):
        UrlFetcher().fetch("http://idp.example.com")


def test_answer_keeps_status_headers_and_body(server: LocalServer) -> None:
    server.state.routes["/x"] = Route(418, b"teapot", {"Cache-Control": "max-age=5"})
    result = UrlFetcher().fetch(f"{server.url}/x")
    assert (result.status, result.body, result.header("Cache-Control")) == (
        418,
        b"teapot",
        "max-age=5",
    )


SIZES = [
    ("at-the-cap-with-length", 1024, True, True),
    ("over-the-cap-with-length", 1025, True, False),
    ("at-the-cap-streamed", 1024, False, True),
    ("over-the-cap-streamed", 1025, False, False),
]


@pytest.mark.parametrize(
    ("size", "send_length", "fits"), [s[1:] for s in SIZES], ids=[s[0] for s in SIZES]
)
def test_response_size_cap(server: LocalServer, size: int, send_length: bool, fits: bool) -> None:
    server.state.routes["/big"] = Route(200, b"x" * size, send_length=send_length)
    fetcher = UrlFetcher(max_bytes=1024)
    if fits:
        assert len(fetcher.fetch(f"{server.url}/big").body) == size
    else:
        with pytest.raises(IdPCommunicationError, match="exceeds 1024 bytes"):
            fetcher.fetch(f"{server.url}/big")


def test_slow_answer_times_out(server: LocalServer) -> None:
    server.state.routes["/slow"] = Route(200, b"{}", delay_seconds=1.0)
    with pytest.raises(IdPCommunicationError, match="cannot fetch"):
        UrlFetcher(timeout_seconds=0.2).fetch(f"{server.url}/slow")


REDIRECTS = [
    ("same-scheme-loopback", "{url}/final", None),
    ("to-https", "https://127.0.0.1:1/final", "may not change the scheme"),
    ("to-public-http", "http://idp.example.com/final", "only `https://`"),
]


@pytest.mark.parametrize(
    ("target", "fragment"), [r[1:] for r in REDIRECTS], ids=[r[0] for r in REDIRECTS]
)
def test_redirects(server: LocalServer, target: str, fragment: str | None) -> None:
    server.state.routes["/start"] = Route(302, b"", {"Location": target.format(url=server.url)})
    server.state.routes["/final"] = Route(200, b"done")
    fetcher = UrlFetcher()
    if fragment is None:
        assert fetcher.fetch(f"{server.url}/start").body == b"done"
        return
    with pytest.raises(IdPCommunicationError, match=fragment):
        fetcher.fetch(f"{server.url}/start")
    assert "/final" not in server.state.requests


def test_redirect_loop_stops_at_the_first_repeat(server: LocalServer) -> None:
    server.state.routes["/loop"] = Route(302, b"", {"Location": f"{server.url}/loop"})
    assert UrlFetcher().fetch(f"{server.url}/loop").status == 302
    assert server.state.count("/loop") == 2


def test_redirect_chain_stops_after_the_limit(server: LocalServer) -> None:
    hops = MAX_REDIRECTS + 2
    for n in range(hops):
        server.state.routes[f"/r{n}"] = Route(302, b"", {"Location": f"{server.url}/r{n + 1}"})
    assert UrlFetcher().fetch(f"{server.url}/r0").status == 302
    assert len(server.state.requests) == MAX_REDIRECTS + 1
