"""The portal: the roles a signed-in person may assume, and the credentials page.

`GET /portal` lists `SignedIn.roles` for federated people (H5's mapping and trust
candidates) and, for local IAM users, the roles whose trust policy lets them in
(`local_roles.py`). `POST /portal/assume` issues credentials through the same path
as the API (`Federation.browser_session` or `SessionIssuer.assume_role`) and shows
them once (`Cache-Control: no-store`, nothing kept in the session).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.assume import AssumeRoleInput
from bridge.credentials.issue import IssuedCredentials
from bridge.errors import ClientFault
from bridge.login.local import PASSWORD_RESET
from bridge.login.local_roles import assumable_roles, user_caller
from bridge.login.pages import audit, is_root, login_redirect, request_facts
from bridge.login.session import (
    PageError,
    SignedIn,
    current_session,
    login_services,
    peek_pending,
    require_csrf,
)
from bridge.sessions import SessionOptions

_PROFILE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DEFAULT_PROFILE = "bridge"
ROOT_EXPLANATION = "the root account cannot assume roles; sign in as an IAM user to use the portal"


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/portal", "portal", portal, methods=["GET"])
    bp.add_url_rule("/portal/assume", "portal_assume", assume, methods=["POST"])


def portal() -> WerkzeugResponse | str:
    signed = current_session().signed_in
    if signed is None:
        return login_redirect()
    if signed.password_reset_required or (
        signed.kind == "local" and peek_pending(PASSWORD_RESET) is not None
    ):
        return redirect("/account/password")
    roles, explanation = choices_for(signed)
    return render_template("portal.html", roles=roles, explanation=explanation)


def choices_for(signed: SignedIn) -> tuple[list[dict[str, Any]], str | None]:
    if signed.kind == "federated":
        return signed.roles, signed.trace_summary
    if is_root(signed):
        return [], ROOT_EXPLANATION
    services = login_services()
    caller = user_caller(services.directory, signed.display_name)
    roles = assumable_roles(services.directory, services.authorizer, caller, request_facts())
    explanation = None if roles else "no role's trust policy lets this user assume it"
    return roles, explanation


def assume() -> WerkzeugResponse | str:
    signed = current_session().signed_in
    if signed is None:
        return login_redirect()
    require_csrf()
    role_arn = request.form.get("role_arn", "")
    profile = request.form.get("profile", DEFAULT_PROFILE)
    profile = profile if _PROFILE.fullmatch(profile) else DEFAULT_PROFILE
    try:
        credentials = issue_for(signed, role_arn)
    except ClientFault as exc:
        audit(
            "PortalAssumeRole",
            ok=False,
            principal=signed.principal,
            error=str(exc),
            details={"role_arn": role_arn},
        )
        raise PageError(403, "Role not available", f"you may not assume `{role_arn}`") from None
    audit(
        "PortalAssumeRole",
        ok=True,
        principal=signed.principal,
        details={"role_arn": role_arn, "access_key_id": credentials.access_key_id},
    )
    return render_template(
        "credentials.html",
        role_arn=role_arn,
        profile=profile,
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
        expiration=credentials.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        base_url=login_services().base_url,
    )


def issue_for(
    signed: SignedIn, role_arn: str, duration_seconds: int | None = None
) -> IssuedCredentials:
    """Credentials for `role_arn` through the API's own path (the portal and the CLI)."""
    require_no_reset(signed)
    services = login_services()
    if signed.kind == "federated":
        return _issue_federated(signed, role_arn, duration_seconds)
    if is_root(signed):
        raise PageError(403, "Role not available", ROOT_EXPLANATION)
    caller = user_caller(services.directory, signed.display_name)
    options = SessionOptions(
        role_arn=role_arn,
        session_name=_session_name(signed.display_name),
        duration_seconds=duration_seconds,
    )
    assumed = services.session_issuer.assume_role(caller, AssumeRoleInput(options), request_facts())
    return assumed.credentials


def _issue_federated(
    signed: SignedIn, role_arn: str, duration_seconds: int | None
) -> IssuedCredentials:
    choice = next((r for r in signed.roles if r.get("role_arn") == role_arn), None)
    if choice is None:
        raise PageError(403, "Role not available", f"you may not assume `{role_arn}`")
    if signed.identity is None:
        raise PageError(403, "Role not available", "this sign-in carries no verified identity")
    options = SessionOptions(
        role_arn=role_arn,
        session_name=choice.get("session_name"),
        duration_seconds=duration_seconds or choice.get("duration_seconds"),
    )
    federation = login_services().federation
    return federation.browser_session(
        signed.identity, signed.provider, role_arn, options
    ).credentials


def require_no_reset(signed: SignedIn) -> None:
    """Nothing is granted to a session whose password must be changed first."""
    if signed.password_reset_required:
        raise PageError(
            403, "Password change required", "change your password first (`/account/password`)"
        )


def _session_name(user_name: str) -> str:
    """The user name as the role session name (2 to 64 characters)."""
    name = user_name[:64]
    return name if len(name) >= 2 else f"{name}-console"
