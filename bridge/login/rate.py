"""Rate limits on the sign-in endpoints, per client address and per provider.

Checked before anything is verified, for every request that starts or completes a
sign-in: the local password and TOTP forms, a federated start (`/login/<provider>`),
the SAML ACS, the OIDC callback and the CLI's device authorization. Over the limit
the person gets a 429 page with `Retry-After` and the refusal is counted; the limits
and their store (Redis when configured) are `bridge.ratelimit`'s.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.errors import Throttled
from bridge.login.session import login_services
from bridge.ratelimit import check_signin_rate

_COMPLETIONS = {
    ("POST", "/login/local"),
    ("POST", "/login/mfa"),
    ("POST", "/saml/acs"),
    ("GET", "/oidc/callback"),
    ("POST", "/oauth/device_authorization"),
}
_NOT_PROVIDERS = {"local", "mfa"}


def sign_in_provider() -> tuple[bool, str | None]:
    """Whether this request is a sign-in step, and the provider it names (if any)."""
    if (request.method, request.path) in _COMPLETIONS:
        return True, None
    parts = request.path.split("/")
    if request.method == "GET" and len(parts) == 3 and parts[1] == "login":
        provider = parts[2]
        return provider not in _NOT_PROVIDERS, provider
    return False, None


def throttle_sign_in() -> WerkzeugResponse | tuple[str, int, dict[str, str]] | None:
    is_sign_in, provider = sign_in_provider()
    if not is_sign_in:
        return None
    services = login_services()
    try:
        check_signin_rate(services, request.remote_addr, provider)
    except Throttled as exc:
        services.metrics.refusal("Throttling")
        page = render_template(
            "error.html",
            title="Too many sign-in attempts",
            message=f"too many sign-in attempts from your address; try again in "
            f"{exc.retry_after} seconds",
            status=429,
        )
        return page, 429, {"Retry-After": str(exc.retry_after)}
    return None


def install(bp: Blueprint) -> None:
    bp.before_app_request(throttle_sign_in)
