"""Metadata refreshed from a URL served by a real local HTTP server: created, updated,
kept when the server is down or serves something unusable, fetched at most per interval."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.directory import Directory, HashingConfig
from bridge.errors import NotFound
from bridge.metadata_refresh import MetadataRefresher
from bridge.storage.memory import MemoryStore
from bridge.verify.http import UrlFetcher
from tests.data.saml.gen import NOW, build_metadata, keypair
from tests.unit.directory.directory_support import AesGcmSealer

ACCOUNT = "123456789012"
ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
FIRST = build_metadata(keypair("idp"))
SECOND = build_metadata(keypair("idp"), keypair("idp-rollover"))


@dataclass
class MetadataServer:
    """Serves `body` with `status` at `/md`; counts requests."""

    status: int = 200
    body: bytes = FIRST.encode()
    requests: int = 0
    url: str = ""
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def served() -> Iterator[MetadataServer]:
    state = MetadataServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            self.send_response(state.status)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: object) -> None:
            return None

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{state.server.server_address[1]}/md"
    threading.Thread(target=state.server.serve_forever, daemon=True).start()
    yield state
    state.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def directory(clock: FixedClock) -> Directory:
    hashing = HashingConfig(time_cost=1, memory_cost_kib=8, parallelism=1)
    return Directory(
        MemoryStore(clock=clock),
        account_id=ACCOUNT,
        sealer=AesGcmSealer(bytes(32)),
        clock=clock,
        rng=SystemRandom(),
        hasher=hashing,
    )


def _refresher(directory: Directory, clock: FixedClock, url: str) -> MetadataRefresher:
    fetcher = UrlFetcher(timeout_seconds=2)
    return MetadataRefresher(directory, fetcher, clock, timedelta(hours=1), urls={"corp": url})


def _stored(directory: Directory) -> str:
    return directory.saml_providers.get(ARN).metadata_document


def test_first_fetch_creates_the_provider(
    directory: Directory, clock: FixedClock, served: MetadataServer
) -> None:
    with pytest.raises(NotFound):
        directory.saml_providers.get(ARN)
    assert _refresher(directory, clock, served.url).refresh_due() == [ARN]
    assert _stored(directory) == FIRST


def test_changed_metadata_updates_the_provider_once_the_interval_passed(
    directory: Directory, clock: FixedClock, served: MetadataServer
) -> None:
    refresher = _refresher(directory, clock, served.url)
    refresher.refresh_due()
    served.body = SECOND.encode()
    clock.advance(3600)
    assert refresher.refresh_due() == [ARN]
    assert _stored(directory) == SECOND
    clock.advance(3600)
    assert refresher.refresh_due() == []  # unchanged: no write


def _break(served: MetadataServer, case: str) -> None:
    if case == "server-down":
        served.stop()
    elif case == "http-error":
        served.status = 500
    elif case == "not-xml":
        served.body = b"<html>maintenance</html"
    elif case == "no-idp-descriptor":
        served.body = FIRST.replace("IDPSSODescriptor", "SPSSODescriptor").encode()
    elif case == "expired":
        served.body = build_metadata(keypair("idp"), valid_until=NOW - timedelta(days=1)).encode()
    elif case == "no-signing-key":
        served.body = build_metadata().encode()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("server-down", "cannot fetch"),
        ("http-error", "answered HTTP 500, expected 200"),
        ("not-xml", "is not well-formed xml"),
        ("no-idp-descriptor", "md:IDPSSODescriptor"),
        ("expired", "expired, validUntil"),
        ("no-signing-key", "signing"),
    ],
    ids=["server-down", "http-500", "not-xml", "no-idp", "expired", "no-key"],
)
def test_a_failed_refresh_keeps_the_last_good_copy(
    directory: Directory,
    clock: FixedClock,
    served: MetadataServer,
    caplog: pytest.LogCaptureFixture,
    case: str,
    reason: str,
) -> None:
    refresher = _refresher(directory, clock, served.url)
    refresher.refresh_due()
    _break(served, case)
    clock.advance(3600)
    with caplog.at_level(logging.WARNING, logger="bridge.metadata_refresh"):
        assert refresher.refresh_due() == []
    assert _stored(directory) == FIRST
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "SAML provider corp" in record.getMessage()
    assert reason in record.getMessage()


def test_fetches_at_most_once_per_interval(
    directory: Directory, clock: FixedClock, served: MetadataServer
) -> None:
    refresher = _refresher(directory, clock, served.url)
    refresher.refresh_due()
    served.body = SECOND.encode()
    clock.advance(3599)
    assert refresher.refresh_due() == []
    assert (served.requests, _stored(directory)) == (1, FIRST)
    clock.advance(1)
    assert refresher.refresh_due() == [ARN]
    assert served.requests == 2
