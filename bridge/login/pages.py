"""Helpers shared by the login views: audit events, the signed-in guard, page rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import g, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.audit import AuditEvent
from bridge.authz.decide import RequestFacts
from bridge.login.session import PageError, SignedIn, current_session, login_services
from bridge.services import Services

ROOT_NAME = "root"


def audit(
    event_name: str,
    *,
    ok: bool,
    principal: str | None,
    details: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    services = login_services()
    services.audit.record(
        AuditEvent(
            time=services.clock.now(),
            event_name=event_name,
            result="success" if ok else "failure",
            request_id=str(g.get("request_id", "")),
            principal=principal,
            source_ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
            error_message=error,
            details=dict(details or {}),
        )
    )
    _count(services, event_name, ok, details or {})


def _count(services: Services, event_name: str, ok: bool, details: Mapping[str, Any]) -> None:
    """Sign-ins by provider and result, and credentials issued, for `/metrics`."""
    if event_name == "ConsoleLogin":
        local = "local" if "user_name" in details else "unknown"
        provider = str(details.get("provider") or local)
        services.metrics.sign_in(provider, "success" if ok else "failure")
    elif ok and event_name in {"PortalAssumeRole", "CliAssumeRole"}:
        services.metrics.credentials_issued(event_name)


def login_redirect() -> WerkzeugResponse:
    """To the chooser, coming back to this path afterwards."""
    return redirect("/login?next=" + quote(request.path, safe="/"))


def signed_in_or_none() -> SignedIn | None:
    return current_session().signed_in


def require_local() -> SignedIn:
    """The signed-in local user or root; federated people have no password here."""
    signed = current_session().signed_in
    if signed is None or signed.kind != "local":
        raise PageError(
            403, "Not available", "only IAM users signed in with a password manage it here"
        )
    return signed


def is_root(signed: SignedIn) -> bool:
    return signed.principal.endswith(":root")


def owner_name(signed: SignedIn) -> str | None:
    """The IAM user name for the directory, or None for the root account."""
    return None if is_root(signed) else signed.display_name


def request_facts() -> RequestFacts:
    """What the policy engine may know about this browser request."""
    return RequestFacts(
        now=login_services().clock.now(),
        source_ip=request.remote_addr,
        secure_transport=request.is_secure,
        user_agent=request.headers.get("User-Agent"),
    )
