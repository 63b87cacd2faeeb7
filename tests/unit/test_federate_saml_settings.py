"""`Federation.with_saml` applies the per-provider settings of bridge.yaml (clock skew,
SHA-1) and refreshes metadata from its URL before looking the provider up, as wired by
`make_federation`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import PURPOSES
from bridge.errors import BridgeError
from bridge.federate import Federation
from bridge.services import Services, build_services, make_federation
from bridge.sessions import SessionOptions
from bridge.settings import load_settings
from bridge.storage.memory import MemoryStore
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.saml_errors import ExpiredSAMLResponse, InvalidSAMLResponse
from tests.data.saml.gen import (
    NOW,
    PROVIDER_ARN,
    AssertionSpec,
    build_assertion,
    build_metadata,
    build_response,
    keypair,
    sign,
    to_b64,
)

ROLE_ARN = "arn:aws:iam::123456789012:role/dev"
ATTR = "https://aws.amazon.com/SAML/Attributes/"


def _services(home: Path, saml_providers: dict[str, Any]) -> Iterator[Services]:
    overrides = {
        "account_id": "123456789012",
        "base_url": "https://bridge.example.test",
        "saml_providers": saml_providers,
    }
    settings = load_settings(home, environ={}, overrides=overrides)
    clock = FixedClock(NOW)
    services = build_services(
        settings,
        clock=clock,
        rng=SystemRandom(),
        store=MemoryStore(clock=clock),
        master_key=bytes(32),
    )
    for purpose in PURPOSES:
        services.key_ring.ensure(purpose)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithSAML",
            }
        ],
    }
    services.directory.roles.create("dev", json.dumps(trust))
    yield services
    services.close()


def _federation(tmp_path: Path, providers: dict[str, Any]) -> Iterator[Federation]:
    for services in _services(tmp_path, providers):
        services.directory.saml_providers.create("TestIdP", build_metadata(keypair("idp")))
        yield make_federation(services)


def _response(*, late: timedelta = timedelta(0), algorithm: str = "rsa-sha256") -> str:
    spec = AssertionSpec(
        now=NOW - late,
        attributes=(
            (ATTR + "Role", None, (f"{ROLE_ARN},{PROVIDER_ARN}",)),
            (ATTR + "RoleSessionName", None, ("alice",)),
        ),
    )
    assertion = sign(build_assertion(spec), keypair("idp"), algorithm=algorithm)
    return to_b64(build_response(assertion, now=spec.now))


def _assume(federation: Federation, response: str) -> str:
    session = federation.with_saml(response, PROVIDER_ARN, SessionOptions(role_arn=ROLE_ARN))
    return session.assumed_role_arn


# AssertionSpec puts NotOnOrAfter 5 minutes after its `now`: 390 s late is 90 s past it.
LATE = timedelta(seconds=390)
ONE_PAST = timedelta(seconds=301)


@pytest.mark.parametrize(
    ("providers", "response", "refused_with"),
    [
        ({}, _response(late=LATE), ExpiredSAMLResponse),
        ({"TestIdP": {"clock_skew_seconds": 120}}, _response(late=LATE), None),
        ({"Other": {"clock_skew_seconds": 120}}, _response(late=LATE), ExpiredSAMLResponse),
        (
            {"TestIdP": {"clock_skew_seconds": 0}},
            _response(late=timedelta(seconds=301)),
            ExpiredSAMLResponse,
        ),
        ({}, _response(algorithm="rsa-sha1"), InvalidSAMLResponse),
        ({"TestIdP": {"allow_sha1": True}}, _response(algorithm="rsa-sha1"), None),
    ],
    ids=[
        "90s-late-default-skew",
        "90s-late-skew-120",
        "skew-of-another-provider",
        "1s-late-skew-0",
        "sha1-refused-by-default",
        "sha1-allowed-for-provider",
    ],
)
def test_provider_settings_reach_the_verifier(
    tmp_path: Path,
    providers: dict[str, Any],
    response: str,
    refused_with: type[BridgeError] | None,
) -> None:
    for federation in _federation(tmp_path, providers):
        if refused_with is None:
            assert _assume(federation, response).endswith(":assumed-role/dev/alice")
        else:
            with pytest.raises(refused_with):
                _assume(federation, response)


@pytest.fixture
def metadata_url() -> Iterator[str]:
    """The IdP metadata served over loopback HTTP."""
    body = build_metadata(keypair("idp")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata.xml"
    server.shutdown()
    server.server_close()


def test_a_provider_known_only_by_its_metadata_url_is_fetched_first(
    tmp_path: Path, metadata_url: str
) -> None:
    for services in _services(tmp_path, {"TestIdP": {"metadata_url": metadata_url}}):
        federation = make_federation(services)
        assert _assume(federation, _response()).endswith(":assumed-role/dev/alice")
        assert (tmp_path / "sp-key.pem").stat().st_mode & 0o777 == 0o600


def test_an_assertion_accepted_within_the_skew_cannot_be_replayed(tmp_path: Path) -> None:
    """Past NotOnOrAfter but inside the clock skew, the one-time-use key must still hold."""
    for federation in _federation(tmp_path, {"TestIdP": {"clock_skew_seconds": 120}}):
        late = _response(late=LATE)
        assert _assume(federation, late).endswith(":assumed-role/dev/alice")
        with pytest.raises(InvalidIdentityToken, match="already used"):
            _assume(federation, late)
