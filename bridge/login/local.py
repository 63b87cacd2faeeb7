"""The chooser, local sign-in (password, then TOTP when a device is enabled), sign-out.

`GET /login` lists the federated providers (H5's `services.login_providers`) and the
local form. `POST /login/local` checks an IAM user's console password (or, with
"root account" ticked, the root password set by `bridge init`); when the user (or
root) has an enabled MFA device the session keeps a pending step and
`/login/mfa` asks for a code. Every failure shows one message and is audited as a
`ConsoleLogin` failure with the reason in the details; names are throttled
(`throttle.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.directory import ids
from bridge.errors import AuthenticationFailed, InvalidAuthenticationCode, InvalidInput, NotFound
from bridge.login.pages import ROOT_NAME, audit
from bridge.login.session import (
    SignedIn,
    current_session,
    login_services,
    peek_pending,
    pop_pending,
    put_pending,
    require_csrf,
    safe_next,
    sign_in,
    sign_out,
)
from bridge.login.throttle import SignInThrottle

BAD_LOGIN = "incorrect user name or password"
BAD_CODE = "incorrect or expired MFA code"
LOCKED = "too many failed attempts for this user name; wait a few minutes and try again"
MFA_PENDING = "local-mfa"
PASSWORD_RESET = "password-reset"  # noqa: S105 - a pending-step key, not a secret
MFA_TTL = 300
MAX_CODE_TRIES = 5


@dataclass(frozen=True)
class _Checked:
    """A password that matched: who, and what comes next."""

    user_name: str  # "root" for the root account
    arn: str
    mfa_serials: list[str]
    reset_required: bool


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/login", "chooser", chooser, methods=["GET"])
    bp.add_url_rule("/login/local", "local_form", local_form, methods=["GET"])
    bp.add_url_rule("/login/local", "local_submit", local_submit, methods=["POST"])
    bp.add_url_rule("/login/mfa", "local_mfa_form", mfa_form, methods=["GET"])
    bp.add_url_rule("/login/mfa", "local_mfa_submit", mfa_submit, methods=["POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])


def chooser() -> str:
    listed = login_services().login_providers.list()
    current_session().keep()
    return render_template("login.html", providers=listed, next=safe_next(request.args.get("next")))


def local_form() -> str:
    return _local_page(safe_next(request.args.get("next")))


def _local_page(next_path: str, *, error: str | None = None, user_name: str = "") -> str:
    return render_template("local.html", next=next_path, error=error, user_name=user_name)


def local_submit() -> WerkzeugResponse | tuple[str, int]:
    require_csrf()
    form = request.form
    user_name = form.get("user_name", "").strip()[:128]
    as_root = form.get("account") == "root"
    label = ROOT_NAME if as_root else user_name
    next_path = safe_next(form.get("next"))
    throttle = SignInThrottle(login_services().browser_sessions, login_services().clock)
    if throttle.locked_until(label) is not None:
        _failed(label, "throttled", None)
        return _local_page(next_path, error=LOCKED, user_name=user_name), 429
    try:
        checked = _check_password(as_root, user_name, form.get("password", ""))
    except AuthenticationFailed as exc:
        throttle.failed(label)
        _failed(label, exc.reason, None)
        return _local_page(next_path, error=BAD_LOGIN, user_name=user_name), 401
    if checked.mfa_serials:
        put_pending(MFA_PENDING, _pending(checked, next_path), ttl_seconds=MFA_TTL)
        return redirect("/login/mfa")
    throttle.succeeded(label)
    return _complete(checked.user_name, checked.arn, next_path, checked.reset_required, mfa=False)


def _check_password(as_root: bool, user_name: str, password: str) -> _Checked:
    directory = login_services().directory
    if as_root:
        account = directory.account.verify_root(password)
        serials = [account.root_mfa_serial] if account.root_mfa_serial else []
        return _Checked(ROOT_NAME, ids.root_arn(account.account_id), serials, False)
    if not user_name or not password:
        raise AuthenticationFailed("missing_credentials", BAD_LOGIN)
    result = directory.login_profiles.verify_login(user_name, password)
    user = result.user
    serials = [d.serial_number for d in directory.mfa.list(user.name) if d.enabled_at is not None]
    arn = ids.entity_arn(directory.account_id, "user", user.path, user.name)
    reset = result.password_reset_required or result.password_expired
    return _Checked(user.name, arn, serials, reset)


def _pending(checked: _Checked, next_path: str) -> dict[str, str]:
    return {
        "user_name": checked.user_name,
        "arn": checked.arn,
        "serials": " ".join(checked.mfa_serials),
        "reset": "1" if checked.reset_required else "",
        "next": next_path,
        "tries": "0",
    }


def mfa_form() -> WerkzeugResponse | str:
    pending = peek_pending(MFA_PENDING)
    if pending is None:
        return redirect("/login/local")
    return render_template("mfa.html", user_name=pending["user_name"], error=None)


def mfa_submit() -> WerkzeugResponse | tuple[str, int]:
    require_csrf()
    pending = pop_pending(MFA_PENDING)
    if pending is None:
        return redirect("/login/local")
    name = pending["user_name"]
    throttle = SignInThrottle(login_services().browser_sessions, login_services().clock)
    if throttle.locked_until(name) is not None:
        _failed(name, "throttled", pending["arn"])
        return render_template("mfa.html", user_name=name, error=LOCKED), 429
    code = request.form.get("code", "").strip()
    if not _code_matches(pending["serials"].split(), code):
        throttle.failed(name)
        _failed(name, "invalid_mfa_code", pending["arn"])
        return _retry_mfa(pending)
    throttle.succeeded(name)
    reset = pending["reset"] == "1"
    return _complete(name, pending["arn"], pending["next"], reset, mfa=True)


def _code_matches(serials: list[str], code: str) -> bool:
    mfa = login_services().directory.mfa
    for serial in serials:
        try:
            mfa.verify(serial, code)
        except (InvalidAuthenticationCode, InvalidInput, NotFound):
            continue
        return True
    return False


def _retry_mfa(pending: dict[str, str]) -> WerkzeugResponse | tuple[str, int]:
    tries = int(pending["tries"]) + 1
    if tries >= MAX_CODE_TRIES:
        return redirect("/login/local")
    put_pending(MFA_PENDING, {**pending, "tries": str(tries)}, ttl_seconds=MFA_TTL)
    return render_template("mfa.html", user_name=pending["user_name"], error=BAD_CODE), 401


def _complete(
    user_name: str, arn: str, next_path: str, reset_required: bool, *, mfa: bool
) -> WerkzeugResponse:
    now = login_services().clock.now()
    signed = SignedIn(
        kind="local",
        provider=None,
        display_name=user_name,
        principal=arn,
        identity=None,
        roles=[],
        trace_summary=None,
        signed_in_at=now.isoformat(),
        password_reset_required=reset_required,
    )
    sign_in(signed)
    audit("ConsoleLogin", ok=True, principal=arn, details={"user_name": user_name, "mfa": mfa})
    if reset_required:
        put_pending(PASSWORD_RESET, {"next": next_path}, ttl_seconds=3600)
        return redirect("/account/password")
    return redirect(next_path)


def _failed(user_name: str, reason: str, principal: str | None) -> None:
    details = {"user_name": user_name, "reason": reason}
    audit("ConsoleLogin", ok=False, principal=principal, details=details, error=BAD_LOGIN)


def logout() -> WerkzeugResponse:
    require_csrf()
    signed = current_session().signed_in
    sign_out()
    if signed is not None:
        audit("ConsoleLogout", ok=True, principal=signed.principal)
    return redirect("/login")
