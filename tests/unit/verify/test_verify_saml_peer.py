"""The verifier against a real IdP: SimpleSAMLphp from the loopback peers (peers/README.md).

A session fixture starts the peer (`tests/support/saml_peer.py`) in a temporary folder on
a free port, a plain HTTP client logs in as alice (IdP-initiated and SP-initiated with a
deflated AuthnRequest in the Redirect binding) and the captured SAMLResponse is verified
with the metadata the peer wrote. Skipped where the peer cannot run, failed under CI.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import SystemClock
from bridge.storage.interfaces import SAMLProvider
from bridge.verify.saml import SAMLVerifier, SPConfig
from bridge.verify.saml_errors import InvalidSAMLResponse
from tests.support.saml_peer import (
    EMAIL,
    PERSISTENT,
    SAMLPeer,
    running_saml_peer,
    saml_response,
)

SP_ENTITY_ID = "https://bridge.peer-test.example/saml/metadata"
ACS_URL = "https://bridge.peer-test.example/saml/acs"
ARN = "arn:aws:iam::123456789012:saml-provider/PeerIdP"


@pytest.fixture(scope="session")
def saml_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SAMLPeer]:
    with running_saml_peer(tmp_path_factory.mktemp("saml-peer"), SP_ENTITY_ID, ACS_URL) as peer:
        yield peer


def _provider(peer: SAMLPeer) -> SAMLProvider:
    return SAMLProvider(ARN, "PeerIdP", peer.metadata, datetime.now(UTC))


def _verifier() -> SAMLVerifier:
    return SAMLVerifier(clock=SystemClock(), sp=SPConfig(SP_ENTITY_ID, ACS_URL))


FLOWS = {
    "idp-initiated": (None, EMAIL),
    "sp-initiated-persistent": ("_req-peer-1", PERSISTENT),
    "sp-initiated-email": ("_req-peer-2", EMAIL),
}
SUBJECTS = {"persistent": "alice", "emailAddress": "alice@example.com"}


@pytest.mark.parametrize(("request_id", "name_id_format"), FLOWS.values(), ids=FLOWS.keys())
def test_peer_response_verifies(
    saml_peer: SAMLPeer, request_id: str | None, name_id_format: str
) -> None:
    response = saml_response(saml_peer, "alice", request_id, name_id_format)
    identity = _verifier().verify(
        response,
        _provider(saml_peer),
        expected_in_response_to=request_id,
        allow_unsolicited=request_id is None,
    )
    short_format = name_id_format.rsplit(":", 1)[-1]
    assert identity.subject == SUBJECTS[short_format]
    assert identity.subject_type == name_id_format.removeprefix(
        "urn:oasis:names:tc:SAML:2.0:nameid-format:"
    )
    assert identity.attribute("uid") == ("alice",)
    assert identity.attribute("mail") == ("alice@example.com",)
    assert identity.attribute("eduPersonAffiliation") == ("member", "employee", "staff")
    assert set(identity.groups) >= {"staff", "admins"}
    assert identity.audience == ACS_URL
    assert identity.expires_at > datetime.now(UTC)


def test_peer_response_for_another_request_is_refused(saml_peer: SAMLPeer) -> None:
    response = saml_response(saml_peer, "alice", "_req-peer-3", EMAIL)
    with pytest.raises(InvalidSAMLResponse, match="expected `_req-other`, saw `_req-peer-3`"):
        _verifier().verify(response, _provider(saml_peer), expected_in_response_to="_req-other")


def test_peer_verification_rate(saml_peer: SAMLPeer) -> None:
    """In-process verification is fast: report the figure, insist on a modest floor."""
    response = saml_response(saml_peer)
    verifier, provider = _verifier(), _provider(saml_peer)
    verifier.verify(response, provider)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 1.0:
        verifier.verify(response, provider, clock_skew=timedelta(seconds=60))
        count += 1
    rate = count / (time.perf_counter() - started)
    print(f"SAML responses verified per second (peer response, both signed): {rate:.0f}")
    assert rate > 50
