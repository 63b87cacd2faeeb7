"""Security headers for the HTML pages of the bridge (login, portal, errors).

Applied app-wide to every `text/html` response (`after_app_request`), so the
federated views get them too. The CSP has no inline script or style; images may be
`data:` URIs (the TOTP QR code). `form-action` is `'self'`, except on the page that
hands a SAML message to the IdP with the HTTP-POST binding: that view calls
`allow_external_form_action()`.
"""

from __future__ import annotations

from flask import Response, g

_FLAG = "bridge_external_form_action"
CSP_BASE = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def allow_external_form_action() -> None:
    """Let this response's forms post to another origin (SAML HTTP-POST binding only)."""
    setattr(g, _FLAG, True)


def content_security_policy(external_forms: bool) -> str:
    form_action = "form-action 'self' https: http:" if external_forms else "form-action 'self'"
    return f"{CSP_BASE}; {form_action}"


def apply_security_headers(response: Response) -> Response:
    if response.mimetype != "text/html":
        return response
    external = bool(g.get(_FLAG, False))
    response.headers["Content-Security-Policy"] = content_security_policy(external)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
