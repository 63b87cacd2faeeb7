"""Server-side browser sessions for the login pages.

The cookie `bridge_session` holds a random id (256 bits); the store keeps only its
SHA-256, so a leaked database or Redis dump yields no live session. A session ends
after `session_idle_minutes` without a request or `session_absolute_hours` after it
began, whichever comes first; signing in rotates the id and the CSRF token (session
fixation), signing out deletes the record and the cookie.

Cookie flags: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` unless the bridge's
base URL is plain `http` on a loopback host (127.0.0.1, ::1, localhost), the only
case where a browser would otherwise never send it back (local development).

Every view that calls `current_session()` has the session saved when its response
is made (`after_this_request`), so H5's federated views share the mechanism.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import Response, after_this_request, current_app, g, request

from bridge.services import Services
from bridge.storage.browser_sessions import BrowserSessionRecord

COOKIE = "bridge_session"
DEFAULT_NEXT = "/portal"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_ID_BYTES = 32
_G_KEY = "bridge_browser_session"
_PURGE_EVERY = 1000


class PageError(Exception):
    """A refusal shown to the person as `error.html` (status, title, safe message)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass
class SignedIn:
    """Who is signed in to the portal (JSON-serialisable)."""

    kind: Literal["federated", "local"]
    provider: str | None
    display_name: str
    principal: str
    identity: dict[str, Any] | None
    roles: list[dict[str, Any]]
    trace_summary: str | None
    signed_in_at: str
    saml_session_index: str | None = None
    # an IAM user whose password must change first: nothing else is granted until it has
    password_reset_required: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedIn:
        return cls(**data)


class BrowserSession:
    """The session of the current request (see `current_session`).

    A fresh anonymous session is stored (and its cookie set) only once something needs
    it: its CSRF token was read for a form, a pending step was kept, or someone signed
    in. Merely asking who is signed in leaves no session behind, so a page rendered for
    a request without the cookie (a cross-site SAML POST) cannot replace the browser's
    real session cookie with an empty one.
    """

    def __init__(
        self,
        id: str,
        csrf_token: str,
        signed_in: SignedIn | None,
        pending: dict[str, dict[str, str]],
        *,
        pending_expires: dict[str, str] | None = None,
        created_at: datetime | None = None,
        stored: bool = False,
    ) -> None:
        self.id = id
        self._csrf_token = csrf_token
        self.signed_in = signed_in
        self.pending = pending
        self.pending_expires = pending_expires if pending_expires is not None else {}
        self.created_at = created_at
        self.stored = stored
        self.csrf_used = False
        self.kept = False
        self.ended = False
        self.rotated_from: str | None = None

    @property
    def csrf_token(self) -> str:
        """The token for a form (reading it means the session must be kept)."""
        self.csrf_used = True
        return self._csrf_token

    @csrf_token.setter
    def csrf_token(self, value: str) -> None:
        self._csrf_token = value

    def csrf_matches(self, sent: str) -> bool:
        """Constant-time comparison with this session's token."""
        return bool(sent) and hmac.compare_digest(sent.encode(), self._csrf_token.encode())

    def keep(self) -> None:
        """Store this session even if nothing is in it yet (a sign-in begins here)."""
        self.kept = True

    @property
    def needed(self) -> bool:
        """Should this session be written and its cookie set?"""
        kept = self.stored or self.kept or self.csrf_used
        return kept or self.signed_in is not None or bool(self.pending)


def login_services() -> Services:
    services = current_app.extensions["bridge"]
    if not isinstance(services, Services):
        raise TypeError("the app has no bridge services")
    return services


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


def current_session() -> BrowserSession:
    """The session from the cookie, or a fresh anonymous one; saved with the response."""
    existing = g.get(_G_KEY)
    if isinstance(existing, BrowserSession):
        return existing
    services = login_services()
    session = _load(services, request.cookies.get(COOKIE)) or _fresh(services)
    setattr(g, _G_KEY, session)
    after_this_request(_save)
    return session


def put_pending(key: str, value: dict[str, str], ttl_seconds: int = 600) -> None:
    """Keep an in-flight login attempt (state, nonce, request id…) in the session."""
    session = current_session()
    expires = login_services().clock.now() + timedelta(seconds=ttl_seconds)
    session.pending[key] = dict(value)
    session.pending_expires[key] = expires.isoformat()


def pop_pending(key: str) -> dict[str, str] | None:
    """The value kept under `key`, removed: a second pop (or an expired one) gives None."""
    session = current_session()
    value = session.pending.pop(key, None)
    expires = session.pending_expires.pop(key, None)
    if value is None or expires is None:
        return None
    if datetime.fromisoformat(expires) <= login_services().clock.now():
        return None
    return value


def peek_pending(key: str) -> dict[str, str] | None:
    """The value kept under `key` if it has not expired, left in place."""
    session = current_session()
    value = session.pending.get(key)
    expires = session.pending_expires.get(key)
    if value is None or expires is None:
        return None
    if datetime.fromisoformat(expires) <= login_services().clock.now():
        return None
    return value


def sign_in(signed_in: SignedIn) -> None:
    """Mark the session signed in, under a new id and a new CSRF token."""
    session = current_session()
    services = login_services()
    session.rotated_from = session.rotated_from or session.id
    session.id = _random_token(services)
    session.csrf_token = _random_token(services)
    session.created_at = services.clock.now()
    session.signed_in = signed_in


def sign_out() -> None:
    """End the session: the record goes now, the cookie with the response."""
    session = current_session()
    session.signed_in = None
    session.pending.clear()
    session.pending_expires.clear()
    session.ended = True


def safe_next(value: str | None) -> str:
    """`value` when it is a same-origin path (`/…`, not `//…` nor `/\\…`), else `/portal`."""
    if not value or len(value) > 2048 or not value.startswith("/"):
        return DEFAULT_NEXT
    if value.startswith("//") or "\\" in value:
        return DEFAULT_NEXT
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value


def require_csrf() -> None:
    """Refuse (400 page) a form post whose `csrf_token` is not this session's."""
    if not current_session().csrf_matches(request.form.get("csrf_token", "")):
        raise PageError(
            400,
            "Request refused",
            "the form expired or did not come from this site; reload the page and try again",
        )


def cookie_secure(base_url: str) -> bool:
    """False only for plain http on a loopback host (local development)."""
    parts = urlsplit(base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK)


def _random_token(services: Services) -> str:
    return base64.urlsafe_b64encode(services.rng.token_bytes(_ID_BYTES)).decode().rstrip("=")


def _fresh(services: Services) -> BrowserSession:
    return BrowserSession(
        id=_random_token(services),
        csrf_token=_random_token(services),
        signed_in=None,
        pending={},
        created_at=services.clock.now(),
    )


def _load(services: Services, cookie: str | None) -> BrowserSession | None:
    if not cookie or len(cookie) > 128:
        return None
    record = services.browser_sessions.get(hash_id(cookie))
    if record is None or _timed_out(services, record):
        return None
    data = json.loads(record.payload)
    signed = data.get("signed_in")
    now = services.clock.now()
    expires = {
        k: v for k, v in data.get("pending_expires", {}).items() if datetime.fromisoformat(v) > now
    }
    pending = {k: v for k, v in data.get("pending", {}).items() if k in expires}
    return BrowserSession(
        id=cookie,
        csrf_token=str(data["csrf"]),
        signed_in=SignedIn.from_json(signed) if signed else None,
        pending=pending,
        pending_expires=expires,
        created_at=record.created_at,
        stored=True,
    )


def _timed_out(services: Services, record: BrowserSessionRecord) -> bool:
    now = services.clock.now()
    idle, absolute = _limits(services)
    return now >= record.last_seen_at + idle or now >= record.created_at + absolute


def _limits(services: Services) -> tuple[timedelta, timedelta]:
    settings = services.settings
    return (
        timedelta(minutes=settings.session_idle_minutes),
        timedelta(hours=settings.session_absolute_hours),
    )


def _save(response: Response) -> Response:
    session = g.get(_G_KEY)
    if not isinstance(session, BrowserSession):
        return response
    services = login_services()
    repo = services.browser_sessions
    if session.rotated_from is not None:
        repo.remove(hash_id(session.rotated_from))
    secure = cookie_secure(services.base_url)
    if session.ended:
        repo.remove(hash_id(session.id))
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        return response
    if not session.needed:
        return response
    repo.put(_record(services, session))
    response.set_cookie(COOKIE, session.id, path="/", secure=secure, httponly=True, samesite="Lax")
    _maybe_purge(services)
    return response


def _record(services: Services, session: BrowserSession) -> BrowserSessionRecord:
    now = services.clock.now()
    created = session.created_at or now
    idle, absolute = _limits(services)
    payload = {
        "csrf": session._csrf_token,
        "signed_in": asdict(session.signed_in) if session.signed_in else None,
        "pending": session.pending,
        "pending_expires": session.pending_expires,
    }
    return BrowserSessionRecord(
        key=hash_id(session.id),
        payload=json.dumps(payload, separators=(",", ":")),
        created_at=created,
        last_seen_at=now,
        expires_at=min(created + absolute, now + idle),
    )


def _maybe_purge(services: Services) -> None:
    counter = current_app.extensions.setdefault("bridge_session_writes", [0])
    counter[0] += 1
    if counter[0] % _PURGE_EVERY == 0:
        services.browser_sessions.purge()
