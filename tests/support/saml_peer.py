"""The real SAML IdP peer (SimpleSAMLphp) and a browserless login driver.

`running_saml_peer()` starts a copy of `peers/saml` on a free port for one SP (entity ID
and ACS URL), optionally with extra attributes per user (written beside the copied
`authsources.php`, which merges them in; the shared folder is never edited).
`saml_response()` signs in IdP-initiated or SP-initiated (a deflated AuthnRequest in the
HTTP-Redirect binding, SAML bindings 3.4) and returns the SAMLResponse the IdP posts.
"""

from __future__ import annotations

import base64
import html
import json
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.peer_process import (
    copy_peer,
    free_port,
    peer_user,
    require_peer,
    running_script,
)

WHAT = "the SAML peer (SimpleSAMLphp)"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

ExtraAttributes = Mapping[str, Mapping[str, Sequence[str]]]

MERGE_EXTRA_ATTRIBUTES = """
// added by tests/support/saml_peer.py: extra attributes per user (extra-attributes.json)
$peerExtra = json_decode((string) file_get_contents(__DIR__ . '/extra-attributes.json'), true);
foreach ($config['example-userpass'] as $login => $attributes) {
    $user = is_array($attributes) ? explode(':', (string) $login, 2)[0] : '';
    if (is_array($peerExtra) && isset($peerExtra[$user])) {
        $config['example-userpass'][$login] = array_merge($attributes, $peerExtra[$user]);
    }
}
"""


@dataclass(frozen=True)
class SAMLPeer:
    entity_id: str
    sso_url: str
    metadata: str
    sp_entity_id: str
    acs_url: str


@contextmanager
def running_saml_peer(
    workdir: Path, sp_entity_id: str, acs_url: str, extra: ExtraAttributes | None = None
) -> Iterator[SAMLPeer]:
    """The IdP on a free port, trusting one SP, run from a copy in `workdir`."""
    require_peer(WHAT, "saml", "php")
    app = copy_peer("saml", workdir / "peers")
    if extra:
        _add_attributes(app / "config", extra)
    env = {
        "SAML_RUN_DIR": str(workdir / "run"),
        "SAML_PORT": str(free_port()),
        "SAML_SP_ENTITY_ID": sp_entity_id,
        "SAML_SP_ACS_URL": acs_url,
    }
    with running_script(WHAT, app, env) as values:
        metadata = Path(values["SAML_IDP_METADATA_FILE"]).read_text(encoding="utf-8")
        yield SAMLPeer(
            values["SAML_IDP_ENTITY_ID"],
            values["SAML_IDP_SSO_URL"],
            metadata,
            sp_entity_id,
            acs_url,
        )


def _add_attributes(config: Path, extra: ExtraAttributes) -> None:
    attributes = {user: {k: list(v) for k, v in values.items()} for user, values in extra.items()}
    (config / "extra-attributes.json").write_text(json.dumps(attributes), encoding="utf-8")
    with (config / "authsources.php").open("a", encoding="utf-8") as authsources:
        authsources.write(MERGE_EXTRA_ATTRIBUTES)


def authn_request(peer: SAMLPeer, request_id: str, name_id_format: str) -> str:
    """A deflated, base64 AuthnRequest for the HTTP-Redirect binding (unsigned)."""
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{issued}" '
        f'AssertionConsumerServiceURL="{peer.acs_url}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{peer.sp_entity_id}</saml:Issuer>"
        f'<samlp:NameIDPolicy Format="{name_id_format}" AllowCreate="true"/>'
        "</samlp:AuthnRequest>"
    )
    deflater = zlib.compressobj(wbits=-15)
    raw = deflater.compress(xml.encode()) + deflater.flush()
    return base64.b64encode(raw).decode("ascii")


def _form_inputs(page: str) -> dict[str, str]:
    pairs = re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in pairs}


def _login(first: requests.Response, session: requests.Session, username: str) -> str:
    """Submit the login form; the SAMLResponse of the auto-POST form that comes back."""
    action = re.search(r'<form[^>]*action="([^"]*)"', first.text)
    assert action is not None, first.text[:500]
    password = str(peer_user(username)["password"])
    fields = {**_form_inputs(first.text), "username": username, "password": password}
    posted = session.post(
        urljoin(first.url, html.unescape(action.group(1))), data=fields, timeout=30
    )
    posted.raise_for_status()
    response = _form_inputs(posted.text).get("SAMLResponse")
    assert response, posted.text[:500]
    return response


def saml_response(
    peer: SAMLPeer,
    username: str = "alice",
    request_id: str | None = None,
    name_id_format: str = EMAIL,
) -> str:
    """The base64 SAMLResponse for `username`: IdP-initiated when `request_id` is None."""
    if request_id is None:
        params = {"spentityid": peer.sp_entity_id}
    else:
        params = {"SAMLRequest": authn_request(peer, request_id, name_id_format), "RelayState": "r"}
    with requests.Session() as session:
        first = session.get(peer.sso_url, params=params, timeout=30)
        first.raise_for_status()
        return _login(first, session, username)
