"""CLI sign-in on the wire: the OAuth endpoints `bridge login` uses, and the CLI API.

- `POST /oauth/device_authorization`, `POST /oauth/token`, `POST /oauth/revoke`
  (RFC 8628 §3.1/§3.4, RFC 6749 §4.1.3 with RFC 7636, RFC 7009): JSON answers, errors
  as `{"error", "error_description"}`, never cached.
- `GET|POST /device`: the verification page (RFC 8628 §3.3) where a signed-in person
  approves or denies the code the terminal shows.
- `GET|POST /oauth/authorize`: the loopback flow's consent page (RFC 8252 §7.3).
- `GET /v1/cli/roles`, `POST /v1/cli/credentials`: with the access token as a bearer
  token, the roles the person may assume and credentials in the `credential_process`
  format, issued through the portal's own path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.cli_grants import (
    CliGrants,
    OAuthError,
    check_client,
    check_loopback_redirect,
    format_user_code,
)
from bridge.errors import ClientFault
from bridge.login import portal
from bridge.login.headers import allow_external_form_action
from bridge.login.pages import audit
from bridge.login.session import (
    PageError,
    SignedIn,
    current_session,
    login_services,
    require_csrf,
)

cli_auth_blueprint = Blueprint("cli_auth", __name__)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _grants() -> CliGrants:
    return login_services().cli_grants


def _oauth_error(error: OAuthError) -> tuple[Response, int]:
    status = 401 if error.error == "invalid_client" else 400
    body = jsonify(error=error.error, error_description=error.message)
    body.headers["Cache-Control"] = "no-store"
    return body, status


@cli_auth_blueprint.post("/oauth/device_authorization")
def device_authorization() -> tuple[Response, int]:
    try:
        check_client(request.form.get("client_id"))
    except OAuthError as error:
        return _oauth_error(error)
    start = _grants().start_device()
    base = login_services().base_url
    shown = format_user_code(start.user_code)
    body = jsonify(
        device_code=start.device_code,
        user_code=shown,
        verification_uri=f"{base}/device",
        verification_uri_complete=f"{base}/device?{urlencode({'user_code': shown})}",
        expires_in=start.expires_in,
        interval=start.interval,
    )
    body.headers["Cache-Control"] = "no-store"
    return body, 200


@cli_auth_blueprint.post("/oauth/token")
def token() -> tuple[Response, int]:
    form = request.form
    try:
        check_client(form.get("client_id"))
        grant_type = form.get("grant_type")
        if grant_type == DEVICE_GRANT:
            access = _grants().poll(form.get("device_code", ""))
        elif grant_type == "authorization_code":
            redirect_uri = check_loopback_redirect(form.get("redirect_uri"))
            verifier = form.get("code_verifier", "")
            access = _grants().redeem_code(form.get("code", ""), redirect_uri, verifier)
        else:
            raise OAuthError(
                "unsupported_grant_type", f"grant_type `{grant_type}` is not supported"
            )
    except OAuthError as error:
        return _oauth_error(error)
    body = jsonify(
        access_token=access.access_token,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_in=access.expires_in,
        display_name=access.display_name,
    )
    body.headers["Cache-Control"] = "no-store"
    return body, 200


@cli_auth_blueprint.post("/oauth/revoke")
def revoke() -> tuple[str, int]:
    """RFC 7009 §2.2: the answer is 200 whether or not the token was valid."""
    _grants().revoke(request.form.get("token", ""))
    return "", 200


def _signed_in_or_redirect() -> SignedIn | WerkzeugResponse:
    signed = current_session().signed_in
    if signed is None:
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    return signed


@cli_auth_blueprint.route("/device", methods=["GET", "POST"])
def device() -> WerkzeugResponse | str:
    signed = _signed_in_or_redirect()
    if not isinstance(signed, SignedIn):
        return signed
    if request.method == "GET":
        typed = request.args.get("user_code", "")
        return render_template("device.html", user_code=typed)
    require_csrf()
    portal.require_no_reset(signed)
    typed = request.form.get("user_code", "")
    approve = request.form.get("decision") == "approve"
    try:
        _grants().decide(typed, _who(signed) if approve else None)
    except OAuthError:
        audit("CliDeviceSignIn", ok=False, principal=signed.principal, error="unknown code")
        raise PageError(
            400, "Code not recognised", f"the code `{typed}` is unknown or expired"
        ) from None
    audit("CliDeviceSignIn", ok=approve, principal=signed.principal, details={"approved": approve})
    return render_template("cli_done.html", approved=approve)


def _who(signed: SignedIn) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(signed)


@cli_auth_blueprint.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> WerkzeugResponse | str:
    source = request.args if request.method == "GET" else request.form
    try:
        check_client(source.get("client_id"))
        redirect_uri = check_loopback_redirect(source.get("redirect_uri"))
        _check_authorize_request(source)
    except OAuthError as error:
        raise PageError(400, "Sign-in request refused", error.message) from None
    signed = _signed_in_or_redirect()
    if not isinstance(signed, SignedIn):
        return signed
    if request.method == "GET":
        allow_external_form_action()  # the approval answers with a redirect to the CLI
        return render_template("cli_authorize.html", fields=dict(source.items()))
    require_csrf()
    portal.require_no_reset(signed)
    state = source["state"]
    if request.form.get("decision") != "approve":
        audit("CliLoopbackSignIn", ok=False, principal=signed.principal, error="denied")
        return redirect(f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}")
    code = _grants().issue_code(_who(signed), redirect_uri, source["code_challenge"])
    audit("CliLoopbackSignIn", ok=True, principal=signed.principal)
    return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")


def _check_authorize_request(source: Any) -> None:
    if source.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be `code`")
    if source.get("code_challenge_method") != "S256" or not source.get("code_challenge"):
        raise OAuthError("invalid_request", "a code_challenge with method S256 is required")
    if not source.get("state"):
        raise OAuthError("invalid_request", "state is required")


def _bearer_session() -> SignedIn | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    who = _grants().session(value.strip())
    return None if who is None else SignedIn.from_json(who)


def _unauthorized() -> tuple[Response, int]:
    body = jsonify(error="invalid_token", error_description="sign in again with `bridge login`")
    body.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return body, 401


def _invalid(description: str) -> tuple[Response, int]:
    return jsonify(error="invalid_request", error_description=description), 400


@cli_auth_blueprint.get("/v1/cli/roles")
def cli_roles() -> tuple[Response, int]:
    signed = _bearer_session()
    if signed is None:
        return _unauthorized()
    roles, explanation = portal.choices_for(signed)
    return jsonify(principal=signed.principal, roles=roles, explanation=explanation), 200


@cli_auth_blueprint.post("/v1/cli/credentials")
def cli_credentials() -> tuple[Response, int]:
    signed = _bearer_session()
    if signed is None:
        return _unauthorized()
    payload = request.get_json(silent=True)
    role_arn = payload.get("role_arn") if isinstance(payload, dict) else None
    if not isinstance(role_arn, str) or not role_arn:
        return _invalid("`role_arn` is required")
    duration = payload.get("duration_seconds") if isinstance(payload, dict) else None
    if duration is not None and (not isinstance(duration, int) or not 900 <= duration <= 43200):
        return _invalid("`duration_seconds` must be an integer from 900 to 43200")
    try:
        issued = portal.issue_for(signed, role_arn, duration)
    except (ClientFault, PageError) as exc:
        audit(
            "CliAssumeRole",
            ok=False,
            principal=signed.principal,
            error=str(exc),
            details={"role_arn": role_arn},
        )
        return jsonify(error="access_denied", error_description=str(exc)), 403
    audit(
        "CliAssumeRole",
        ok=True,
        principal=signed.principal,
        details={"role_arn": role_arn, "access_key_id": issued.access_key_id},
    )
    body = jsonify(
        Version=1,
        AccessKeyId=issued.access_key_id,
        SecretAccessKey=issued.secret_access_key,
        SessionToken=issued.session_token,
        Expiration=issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    body.headers["Cache-Control"] = "no-store"
    return body, 200
