"""Self-service for people signed in with a password: change it, enroll a TOTP device.

As IAM lets users manage their own password (`iam:ChangePassword`) and virtual MFA
device, these pages act on the signed-in user only. The new password is checked
against the account password policy; a device is confirmed with two consecutive
codes (`MFADevices.enable`). The seed is shown as text and as a QR code rendered on
the server by segno (an SVG `data:` image, no script); between the two steps it waits
in the session sealed with the key ring, never in clear.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import segno
from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.errors import (
    AccessDenied,
    AlreadyExists,
    AuthenticationFailed,
    InvalidAuthenticationCode,
    InvalidInput,
    LimitExceeded,
    PasswordPolicyViolation,
)
from bridge.login.local import PASSWORD_RESET
from bridge.login.local_roles import user_caller
from bridge.login.pages import (
    audit,
    is_root,
    login_redirect,
    owner_name,
    request_facts,
    require_local,
    signed_in_or_none,
)
from bridge.login.session import (
    SignedIn,
    login_services,
    peek_pending,
    pop_pending,
    put_pending,
    require_csrf,
    safe_next,
)

ENROLL = "mfa-enroll"
ENROLL_TTL = 900
_SEED_CONTEXT = "login-mfa-enroll"


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/account/password", "account_password_form", password_form, methods=["GET"])
    bp.add_url_rule(
        "/account/password", "account_password_submit", password_submit, methods=["POST"]
    )
    bp.add_url_rule("/account/mfa", "account_mfa_page", mfa_page, methods=["GET"])
    bp.add_url_rule("/account/mfa", "account_mfa_submit", mfa_submit, methods=["POST"])


def password_form() -> WerkzeugResponse | str:
    if signed_in_or_none() is None:
        return login_redirect()
    require_local()
    required = peek_pending(PASSWORD_RESET) is not None
    return render_template("password.html", required=required, done=False, error=None)


def password_submit() -> WerkzeugResponse | tuple[str, int]:
    signed = require_local()
    require_csrf()
    form = request.form
    old, new = form.get("old_password", ""), form.get("new_password", "")
    required = peek_pending(PASSWORD_RESET) is not None
    if new != form.get("confirm_password", ""):
        return _password_error(required, "the new password and its confirmation differ")
    try:
        _change_password(signed, old, new, reset_pending=required)
    except AuthenticationFailed:
        _audit_password(signed, ok=False, reason="old password incorrect")
        return _password_error(required, "the current password is incorrect")
    except AccessDenied as exc:
        _audit_password(signed, ok=False, reason="not allowed to change the password")
        return _password_error(required, str(exc))
    except (PasswordPolicyViolation, InvalidInput) as exc:
        _audit_password(signed, ok=False, reason="rejected by the password policy")
        return _password_error(required, str(exc))
    _audit_password(signed, ok=True, reason=None)
    signed.password_reset_required = False  # saved with the session at the response
    pending = pop_pending(PASSWORD_RESET)
    if pending is not None:
        return redirect(safe_next(pending.get("next")))
    return render_template("password.html", required=False, done=True, error=None), 200


def _change_password(signed: SignedIn, old: str, new: str, *, reset_pending: bool) -> None:
    directory = login_services().directory
    if is_root(signed):
        directory.account.verify_root(old)
        directory.account.set_root_password(new)
        return
    if not (reset_pending or directory.account.password_policy().allow_users_to_change_password):
        services = login_services()
        caller = user_caller(directory, signed.display_name)
        decision = services.authorizer.decide(
            caller, "iam:ChangePassword", caller.arn, request_facts()
        )
        if not decision.allowed:
            raise AccessDenied(
                "the account password policy does not let users change their password, "
                "and no policy allows iam:ChangePassword; ask an administrator"
            )
    directory.login_profiles.change_password(signed.display_name, old, new)


def _password_error(required: bool, message: str) -> tuple[str, int]:
    return render_template("password.html", required=required, done=False, error=message), 400


def _audit_password(signed: SignedIn, *, ok: bool, reason: str | None) -> None:
    details = {"reason": reason} if reason else {}
    audit("ChangePassword", ok=ok, principal=signed.principal, details=details)


def mfa_page() -> WerkzeugResponse | str:
    if signed_in_or_none() is None:
        return login_redirect()
    signed = require_local()
    return _mfa_render(signed, enroll=_enroll_view(), done=None, error=None)


def mfa_submit() -> WerkzeugResponse | tuple[str, int]:
    signed = require_local()
    require_csrf()
    if request.form.get("action") == "create":
        error = _create_device(signed)
        return _mfa_render(signed, enroll=_enroll_view(), done=None, error=error), 200
    return _enable_device(signed)


def _create_device(signed: SignedIn) -> str | None:
    services = login_services()
    name = _device_name(signed)
    try:
        created = services.directory.mfa.create_virtual(name)
    except (AlreadyExists, InvalidInput) as exc:
        return str(exc)
    secret = json.dumps({"seed": created.seed_base32, "uri": created.otpauth_uri})
    sealed = services.key_ring.seal(secret.encode(), context=_SEED_CONTEXT)
    value = {"serial": created.device.serial_number, "sealed": base64.b64encode(sealed).decode()}
    put_pending(ENROLL, value, ttl_seconds=ENROLL_TTL)
    audit(
        "CreateVirtualMFADevice",
        ok=True,
        principal=signed.principal,
        details={"serial": value["serial"]},
    )
    return None


def _device_name(signed: SignedIn) -> str:
    """`<user>` (or `root-account`), with `-2`, `-3`… when the name is taken."""
    base = "root-account" if is_root(signed) else signed.display_name
    taken = {d.name for d in login_services().directory.mfa.list_virtual("Any")}
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _enable_device(signed: SignedIn) -> WerkzeugResponse | tuple[str, int]:
    enroll = peek_pending(ENROLL)
    if enroll is None:
        return redirect("/account/mfa")
    form = request.form
    code1, code2 = form.get("code1", "").strip(), form.get("code2", "").strip()
    try:
        login_services().directory.mfa.enable(owner_name(signed), enroll["serial"], code1, code2)
    except (InvalidAuthenticationCode, InvalidInput, AlreadyExists, LimitExceeded) as exc:
        audit("EnableMFADevice", ok=False, principal=signed.principal, error=str(exc))
        error = "the codes were not two consecutive valid codes; wait for a new code and try again"
        return _mfa_render(signed, enroll=_enroll_view(), done=None, error=error), 400
    pop_pending(ENROLL)
    audit(
        "EnableMFADevice", ok=True, principal=signed.principal, details={"serial": enroll["serial"]}
    )
    return _mfa_render(signed, enroll=None, done=enroll["serial"], error=None), 200


def _enroll_view() -> dict[str, str] | None:
    """The secret and its QR code for the device being enrolled, if any."""
    enroll = peek_pending(ENROLL)
    if enroll is None:
        return None
    sealed = base64.b64decode(enroll["sealed"])
    secret = json.loads(login_services().key_ring.open(sealed, context=_SEED_CONTEXT))
    return {
        "serial": enroll["serial"],
        "secret": secret["seed"],
        "qr": qr_svg_base64(secret["uri"]),
    }


def qr_svg_base64(uri: str) -> str:
    """The otpauth URI as a QR code: SVG, base64 for a `data:` image."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return base64.b64encode(buffer.getvalue()).decode()


def _mfa_render(
    signed: SignedIn, *, enroll: dict[str, str] | None, done: str | None, error: str | None
) -> str:
    devices: list[Any] = login_services().directory.mfa.list(owner_name(signed))
    can_add = enroll is None and (not devices or not is_root(signed))
    return render_template(
        "mfa_enroll.html", devices=devices, enroll=enroll, done=done, error=error, can_add=can_add
    )
