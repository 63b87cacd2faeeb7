"""SAML single logout views (profiles 4.4) on `federated_blueprint`.

- Sign-out (`POST /logout`) of a person signed in through a SAML provider whose
  metadata has a SingleLogoutService, with a SessionIndex: the session ends here, then
  the browser carries a signed LogoutRequest to the IdP (SP-initiated SLO). Every
  other sign-out is left to the login blueprint's own `/logout` view.
- `GET|POST /saml/slo`: a LogoutRequest from the IdP (signature checked against the
  provider's metadata first) ends the session of that person and is answered with a
  signed LogoutResponse; a LogoutResponse to our request ends at the chooser.
"""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.errors import BridgeError
from bridge.login.federated import federated_blueprint, refuse
from bridge.login.headers import allow_external_form_action
from bridge.login.pages import audit
from bridge.login.session import (
    SignedIn,
    current_session,
    login_services,
    require_csrf,
    sign_out,
)
from bridge.verify import saml_slo, saml_sp
from bridge.verify.registry import SAMLAdapter
from bridge.verify.saml_sp import POST
from bridge.verify.xmlsafe import Element

# A LogoutRequest's ID is kept this long: past any IdP's clock skew and message lifetime.
SLO_REPLAY_GUARD = timedelta(hours=1)

NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"


@federated_blueprint.before_app_request
def _saml_logout() -> WerkzeugResponse | str | None:
    """SP-initiated SLO on `POST /logout`, when the IdP takes part; else None."""
    if request.method != "POST" or request.path != "/logout":
        return None
    signed = current_session().signed_in
    adapter = _slo_adapter(signed)
    if signed is None or adapter is None:
        return None
    slo = adapter.endpoints().slo_endpoint()
    if slo is None:
        return None
    require_csrf()
    identity = signed.identity or {}
    subject_type = str(identity.get("subject_type") or "")
    name_format = subject_type if ":" in subject_type else NAMEID_PREFIX + subject_type
    services = login_services()
    message = saml_slo.logout_request(
        adapter.sp,
        slo[1],
        saml_sp.new_id(services.rng),
        saml_sp.instant(services.clock),
        str(identity.get("subject", signed.principal)),
        name_format if subject_type else None,
        signed.saml_session_index,
    )
    sign_out()
    audit("ConsoleLogout", ok=True, principal=signed.principal, details={"slo": "sp-initiated"})
    return _send(slo, "SAMLRequest", message, adapter.sp.key_pem)


def _slo_adapter(signed: SignedIn | None) -> SAMLAdapter | None:
    if signed is None or signed.kind != "federated" or not signed.saml_session_index:
        return None
    try:
        adapter = login_services().login_providers.get(signed.provider or "")
    except BridgeError:
        return None
    return adapter if isinstance(adapter, SAMLAdapter) else None


def _send(
    endpoint: tuple[str, str], parameter: str, message: Element, key: bytes
) -> WerkzeugResponse | str:
    binding, location = endpoint
    if binding == POST:
        out = saml_sp.post_form(location, parameter, message, None, key)
        allow_external_form_action()
        return render_template("post_binding.html", action=out.url, fields=out.fields)
    return redirect(saml_sp.redirect(location, parameter, message, None, key).url, code=303)


@federated_blueprint.route("/saml/slo", methods=["GET", "POST"])
def saml_slo_endpoint() -> WerkzeugResponse | str:
    """Single logout messages from the IdP, either binding, signature checked first."""
    services = login_services()
    try:
        message, adapter = _read_verified()
    except BridgeError as exc:
        refuse(400, "Sign-out refused", exc.message)
        raise
    if message.kind == "LogoutResponse":
        ok = message.status == saml_slo.SUCCESS
        audit("ConsoleLogout", ok=ok, principal=None, details={"slo": "idp-response"})
        return redirect("/login", code=303)
    keep_until = services.clock.now() + SLO_REPLAY_GUARD
    if not services.one_time.use_once(f"saml-slo:{message.message_id}", keep_until):
        refuse(
            400, "Sign-out refused", f"the LogoutRequest `{message.message_id}` was already used"
        )
    signed = current_session().signed_in
    if signed is not None and _names_this_session(message, signed, adapter.info.name):
        sign_out()
    audit("ConsoleLogout", ok=True, principal=message.name_id, details={"slo": "idp-initiated"})
    slo = adapter.endpoints().slo_endpoint()
    if slo is None:
        return redirect("/login", code=303)
    answer = saml_slo.logout_response(
        adapter.sp,
        slo[1],
        saml_sp.new_id(services.rng),
        saml_sp.instant(services.clock),
        message.message_id,
    )
    return _send(slo, "SAMLResponse", answer, adapter.sp.key_pem)


def _names_this_session(message: saml_slo.LogoutMessage, signed: SignedIn, provider: str) -> bool:
    """SAML core 3.7.3.2: a LogoutRequest ends the session of its NameID (and SessionIndex,
    when it names any), not whichever session the browser that carries it happens to have."""
    if signed.provider != provider or message.name_id != signed.principal:
        return False
    indexes = message.session_indexes
    return not indexes or signed.saml_session_index in indexes


def _read_verified() -> tuple[saml_slo.LogoutMessage, SAMLAdapter]:
    services = login_services()
    now = services.clock.now()
    relay = request.values.get("RelayState")
    if request.method == "GET":
        raw = request.query_string.decode("ascii", "replace")
        _, xml = saml_slo.decode_redirect(raw)
        adapter = _adapter_for(xml)
        saml_slo.verify_redirect(raw, adapter.provider().metadata_document, now)
    else:
        value = request.form.get("SAMLRequest") or request.form.get("SAMLResponse") or ""
        xml = saml_slo.decode_post(value)
        adapter = _adapter_for(xml)
        xml = saml_slo.verify_post(xml, adapter.provider().metadata_document, now)
    return saml_slo.read_logout_message(xml, relay), adapter


def _adapter_for(xml: bytes) -> SAMLAdapter:
    issuer = saml_slo.unverified_issuer(xml)
    adapter = login_services().login_providers.saml_for_issuer(issuer)
    if adapter is None:
        refuse(400, "Sign-out refused", f"no sign-in provider trusts the issuer `{issuer[:200]}`")
        raise AssertionError  # unreachable
    return adapter
