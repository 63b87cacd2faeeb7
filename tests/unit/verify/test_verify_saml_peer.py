"""The verifier against a real IdP: SimpleSAMLphp from the loopback peers (peers/README.md).

A session fixture starts the peer in a temporary run folder on a free port, a plain
HTTP client logs in as alice (IdP-initiated and SP-initiated with a deflated
AuthnRequest in the Redirect binding) and the captured SAMLResponse is verified with
the metadata the peer wrote. Skipped where the peer cannot run, failed under CI.
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import socket
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from bridge.clock import SystemClock
from bridge.storage.interfaces import SAMLProvider
from bridge.verify.saml import SAMLVerifier, SPConfig
from bridge.verify.saml_errors import InvalidSAMLResponse
from tests.conftest import peers_dir, service_unavailable

SP_ENTITY_ID = "https://bridge.peer-test.example/saml/metadata"
ACS_URL = "https://bridge.peer-test.example/saml/acs"
ARN = "arn:aws:iam::123456789012:saml-provider/PeerIdP"
REPO = Path(__file__).resolve().parents[3]


def _peers_dir() -> Path | None:
    candidate = peers_dir()
    return candidate if (candidate / "saml" / "start.sh").is_file() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Peer:
    sso_url: str
    metadata: str


@pytest.fixture(scope="session")
def saml_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    peers = _peers_dir()
    if peers is None or shutil.which("php") is None:
        service_unavailable("the SAML peer (SimpleSAMLphp)", "peers/ or php not installed")
    assert peers is not None
    run_dir = tmp_path_factory.mktemp("saml-peer")
    env = {
        **os.environ,
        "SAML_RUN_DIR": str(run_dir),
        "SAML_PORT": str(_free_port()),
        "SAML_SP_ENTITY_ID": SP_ENTITY_ID,
        "SAML_SP_ACS_URL": ACS_URL,
    }
    started = subprocess.run(
        [str(peers / "saml" / "start.sh")], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        service_unavailable("the SAML peer (SimpleSAMLphp)", started.stderr.strip()[-500:])
    values = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        yield Peer(values["SAML_IDP_SSO_URL"], Path(values["SAML_IDP_METADATA_FILE"]).read_text())
    finally:
        subprocess.run([str(peers / "saml" / "stop.sh")], env=env, capture_output=True, check=False)


def _authn_request(request_id: str, name_id_format: str) -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{issued}" '
        f'AssertionConsumerServiceURL="{ACS_URL}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>"
        f'<samlp:NameIDPolicy Format="{name_id_format}" AllowCreate="true"/>'
        "</samlp:AuthnRequest>"
    )
    deflater = zlib.compressobj(wbits=-15)
    raw = deflater.compress(xml.encode()) + deflater.flush()
    return base64.b64encode(raw).decode("ascii")


def _form_inputs(page: str) -> dict[str, str]:
    pairs = re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in pairs}


def _login(first: requests.Response, session: requests.Session) -> str:
    """Submit the login form as alice; the SAMLResponse of the auto-POST form."""
    action = re.search(r'<form[^>]*action="([^"]*)"', first.text)
    assert action is not None, first.text[:500]
    fields = {**_form_inputs(first.text), "username": "alice", "password": "alice-pass"}
    posted = session.post(
        urljoin(first.url, html.unescape(action.group(1))), data=fields, timeout=30
    )
    posted.raise_for_status()
    saml_response = _form_inputs(posted.text).get("SAMLResponse")
    assert saml_response, posted.text[:500]
    return saml_response


def _provider(peer: Peer) -> SAMLProvider:
    return SAMLProvider(ARN, "PeerIdP", peer.metadata, datetime.now(UTC))


def _verifier() -> SAMLVerifier:
    return SAMLVerifier(clock=SystemClock(), sp=SPConfig(SP_ENTITY_ID, ACS_URL))


FLOWS = {
    "idp-initiated": (None, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
    "sp-initiated-persistent": (
        "_req-peer-1",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    ),
    "sp-initiated-email": ("_req-peer-2", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
}
SUBJECTS = {"persistent": "alice", "emailAddress": "alice@example.com"}


def _sign_in(peer: Peer, request_id: str | None, name_id_format: str) -> str:
    with requests.Session() as session:
        if request_id is None:
            params = {"spentityid": SP_ENTITY_ID}
        else:
            params = {"SAMLRequest": _authn_request(request_id, name_id_format), "RelayState": "r"}
        first = session.get(peer.sso_url, params=params, timeout=30)
        first.raise_for_status()
        return _login(first, session)


@pytest.mark.parametrize(("request_id", "name_id_format"), FLOWS.values(), ids=FLOWS.keys())
def test_peer_response_verifies(
    saml_peer: Peer, request_id: str | None, name_id_format: str
) -> None:
    saml_response = _sign_in(saml_peer, request_id, name_id_format)
    identity = _verifier().verify(
        saml_response,
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


def test_peer_response_for_another_request_is_refused(saml_peer: Peer) -> None:
    saml_response = _sign_in(saml_peer, "_req-peer-3", FLOWS["sp-initiated-email"][1])
    with pytest.raises(InvalidSAMLResponse, match="expected `_req-other`, saw `_req-peer-3`"):
        _verifier().verify(
            saml_response, _provider(saml_peer), expected_in_response_to="_req-other"
        )


def test_peer_verification_rate(saml_peer: Peer) -> None:
    """In-process verification is fast: report the figure, insist on a modest floor."""
    saml_response = _sign_in(saml_peer, None, FLOWS["idp-initiated"][1])
    verifier, provider = _verifier(), _provider(saml_peer)
    verifier.verify(saml_response, provider)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 1.0:
        verifier.verify(saml_response, provider, clock_skew=timedelta(seconds=60))
        count += 1
    rate = count / (time.perf_counter() - started)
    print(f"SAML responses verified per second (peer response, both signed): {rate:.0f}")
    assert rate > 50
