"""Federated browser sign-in: SAML SP and OIDC RP views (`federated_blueprint`).

- `GET /login/<provider>`: begin. The adapter says what to send the browser; what the
  reply must match (state, nonce, PKCE verifier or the AuthnRequest ID, and `next`)
  is kept in the browser session under `oidc:<state>` / `saml:<RelayState>`.
- `POST /saml/acs` and `GET /oidc/callback`: complete. The pending entry is popped
  (one-time), the adapter verifies the reply, the sign-in is used once, mapping and
  trust give the portal's roles, and the session is signed in (its id rotated).
- `GET /saml/metadata`: this bridge's SP metadata. SLO lives in `federated_slo.py`.

Every refusal is an `error.html` page with a precise, safe message and a
`ConsoleLogin` failure audit event naming the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.errors import BridgeError, ClientFault
from bridge.login.headers import allow_external_form_action
from bridge.login.pages import audit
from bridge.login.session import (
    COOKIE,
    PageError,
    SignedIn,
    login_services,
    pop_pending,
    put_pending,
    safe_next,
    sign_in,
)
from bridge.verify.errors import IdPCommunicationError
from bridge.verify.identity import VerifiedIdentity, identity_to_json
from bridge.verify.login_errors import UnknownLoginProvider
from bridge.verify.registry import (
    PENDING_TTL,
    Completed,
    OIDCAdapter,
    PostForm,
    ProviderInfo,
    SAMLAdapter,
    pending_key,
)
from bridge.verify.saml_sp import sp_metadata

federated_blueprint = Blueprint("federated", __name__, template_folder="templates")

RESUBMIT = "bridge_resubmit"  # marks the ACS form re-posted from our own origin
EMAIL_CLAIMS = (
    "email",
    "mail",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "upn",
    "preferred_username",
)


def refuse(status: int, title: str, reason: str, details: Mapping[str, Any] | None = None) -> None:
    """Audit the refusal and show it (raises `PageError`)."""
    audit("ConsoleLogin", ok=False, principal=None, details=details, error=reason)
    raise PageError(status, title, reason)


def _status(exc: BridgeError) -> int:
    if isinstance(exc, UnknownLoginProvider):
        return 404
    if isinstance(exc, IdPCommunicationError) or not isinstance(exc, ClientFault):
        return 502
    return 400


@federated_blueprint.route("/login/<provider>", methods=["GET"])
def start(provider: str) -> WerkzeugResponse | str:
    """Begin a sign-in with `provider` (SP-initiated SAML, or OIDC code flow + PKCE)."""
    try:
        adapter = login_services().login_providers.get(provider)
        begun = adapter.begin()
    except BridgeError as exc:
        refuse(_status(exc), "Sign-in not started", exc.message, {"provider": provider[:64]})
        raise  # unreachable: refuse raised
    pending = {**begun.pending, "next": safe_next(request.args.get("next"))}
    put_pending(begun.key, pending, ttl_seconds=int(PENDING_TTL.total_seconds()))
    if isinstance(begun.action, PostForm):
        allow_external_form_action()
        return render_template(
            "post_binding.html", action=begun.action.url, fields=begun.action.fields
        )
    return redirect(begun.action.url, code=303)


@federated_blueprint.route("/saml/acs", methods=["POST"])
def saml_acs() -> WerkzeugResponse | str:
    """The Assertion Consumer Service (HTTP-POST binding, profiles 4.1.4)."""
    form = request.form
    response, relay = form.get("SAMLResponse", ""), form.get("RelayState", "")
    if not response:
        refuse(400, "Sign-in refused", "the form carries no `SAMLResponse`")
    if COOKIE not in request.cookies and form.get(RESUBMIT) != "1":
        # A cross-site POST from the IdP carries no SameSite=Lax cookie: post it again
        # from this origin so the session that began the sign-in comes with it.
        return render_template(
            "post_binding.html",
            action="/saml/acs",
            fields={"SAMLResponse": response, "RelayState": relay, RESUBMIT: "1"},
        )
    pending = pop_pending(pending_key("saml", relay)) if relay else None
    adapter = _saml_adapter(pending, response)
    try:
        completed = adapter.complete(response, pending)
    except BridgeError as exc:
        refuse(_status(exc), "Sign-in refused", exc.message, {"provider": adapter.info.name})
        raise
    next_path = pending["next"] if pending else safe_next(relay)
    return _finish(adapter.info, completed, next_path)


def _saml_adapter(pending: Mapping[str, str] | None, response: str) -> SAMLAdapter:
    providers = login_services().login_providers
    if pending is not None:
        try:
            found = providers.get(pending["provider"])
        except BridgeError as exc:
            refuse(400, "Sign-in refused", exc.message)
            raise
    else:
        found = _unsolicited_adapter(response)
    if not isinstance(found, SAMLAdapter):
        refuse(400, "Sign-in refused", "the reply does not belong to a SAML sign-in")
        raise AssertionError  # unreachable: refuse raised
    return found


def _unsolicited_adapter(response: str) -> SAMLAdapter:
    """IdP-initiated: the provider whose metadata names the Response's Issuer."""
    from bridge.verify.saml_slo import unverified_issuer
    from bridge.verify.xmlsafe import decode_base64

    try:
        issuer = unverified_issuer(decode_base64(response, what="SAMLResponse"))
    except BridgeError as exc:
        refuse(400, "Sign-in refused", exc.message)
        raise
    adapter = login_services().login_providers.saml_for_issuer(issuer)
    if adapter is None:
        refuse(
            400,
            "Sign-in refused",
            f"no sign-in provider trusts the issuer `{issuer[:200]}`, and this reply answers "
            "no sign-in this browser began",
        )
        raise AssertionError  # unreachable
    return adapter


@federated_blueprint.route("/oidc/callback", methods=["GET"])
def oidc_callback() -> WerkzeugResponse | str:
    """The redirection endpoint of the authorization code flow (OIDC Core 3.1.2.5)."""
    params = {key: request.args.get(key, "") for key in request.args}
    state = params.get("state", "")
    pending = pop_pending(pending_key("oidc", state)) if state else None
    if pending is None:
        refuse(
            400,
            "Sign-in refused",
            "the reply does not match a sign-in this browser began "
            "(unknown, expired or already used `state`)",
        )
        raise AssertionError  # unreachable
    adapter = login_services().login_providers.get(pending["provider"])
    if not isinstance(adapter, OIDCAdapter):
        refuse(400, "Sign-in refused", "the reply does not belong to an OpenID Connect sign-in")
        raise AssertionError  # unreachable
    try:
        completed = adapter.complete(params, pending)
    except BridgeError as exc:
        refuse(_status(exc), "Sign-in refused", exc.message, {"provider": adapter.info.name})
        raise
    return _finish(adapter.info, completed, pending["next"])


def _finish(info: ProviderInfo, completed: Completed, next_path: str) -> WerkzeugResponse:
    """One-time use, mapping and trust, then the signed-in session."""
    services = login_services()
    identity = completed.identity
    try:
        services.federation.use_browser_sign_in(identity)
        choices, trace = services.federation.browser_candidates(identity, info.name)
    except BridgeError as exc:
        refuse(_status(exc), "Sign-in refused", exc.message, {"provider": info.name})
        raise
    signed = SignedIn(
        kind="federated",
        provider=info.name,
        display_name=display_name(identity),
        principal=identity.subject,
        identity=identity_to_json(identity),
        roles=[choice.to_dict() for choice in choices],
        trace_summary=None if choices else trace.user_summary(info.name),
        signed_in_at=services.clock.now().isoformat(),
        saml_session_index=completed.session_index,
    )
    sign_in(signed)
    details = {"provider": info.name, "issuer": identity.issuer, "mapping": trace.to_dict()}
    audit("ConsoleLogin", ok=True, principal=identity.subject, details=details)
    return redirect(safe_next(next_path), code=303)


def display_name(identity: VerifiedIdentity) -> str:
    for claim in EMAIL_CLAIMS:
        values = identity.attribute(claim)
        if values and values[0]:
            return values[0][:256]
    return identity.subject[:256]


@federated_blueprint.route("/saml/metadata", methods=["GET"])
def saml_metadata() -> Response:
    """This SP's metadata (entity id, ACS, SLO, signing and encryption certificate)."""
    document = sp_metadata(login_services().login_providers.sp)
    return Response(document, mimetype="application/samlmetadata+xml")


from bridge.login import federated_slo  # noqa: E402 - registers the SLO views and hook

__all__ = ["federated_blueprint", "federated_slo", "refuse"]
