"""The bridge's side of CLI sign-in: device codes, loopback codes and CLI sessions.

No Flask here; `login/cli_auth.py` puts it on the wire.
- Device authorization grant (RFC 8628): `start_device` gives a device code (secret,
  kept by the CLI) and a short user code (shown to the person, §6.1: 8 letters of
  a 20-letter alphabet with no vowels), both expiring after ten minutes; a signed-in
  person approves or denies the user code in the portal; `poll` answers the CLI's
  token requests with `authorization_pending`, `slow_down` (§3.5, faster than the
  interval), `access_denied`, `expired_token`, or the access token, once.
- Authorization code with PKCE to a loopback redirect (RFC 8252 §7.3, RFC 7636 §4.6):
  `issue_code` after the person approves, `redeem_code` once, checking the redirect
  URI and the S256 verifier.
- The access token opens a CLI session holding what the portal knows about the
  person (`SignedIn` as JSON); it ends with the portal session's absolute lifetime.

Every secret (device code, code, access token) is stored only as a SHA-256 key, so
reading the store yields nothing usable. Redemption is made one-time by the
one-time-use store, atomic across instances.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from bridge.clock import Clock, Random
from bridge.errors import ClientFault
from bridge.storage.browser_sessions import BrowserSessionRecord, BrowserSessionRepository
from bridge.storage.interfaces import OneTimeUse

CLIENT_ID = "bridge-cli"
DEVICE_LIFETIME = timedelta(minutes=10)
CODE_LIFETIME = timedelta(minutes=2)
POLL_INTERVAL = 5
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


class OAuthError(ClientFault):
    """An OAuth error answer (RFC 6749 §5.2, RFC 8628 §3.5): `error` is the wire code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


@dataclass(frozen=True)
class DeviceStart:
    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class AccessGrant:
    access_token: str
    expires_in: int
    display_name: str


def normalise_user_code(text: str) -> str:
    """What the person typed, without dashes, spaces or case (RFC 8628 §6.1)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def format_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def check_client(client_id: str | None) -> None:
    if client_id != CLIENT_ID:
        raise OAuthError("invalid_client", f"unknown client_id `{client_id}`")


def check_loopback_redirect(uri: str | None) -> str:
    """RFC 8252 §7.3: only `http` to a loopback address, any port, no fragment."""
    text = uri or ""
    parts = urlsplit(text)
    # the whole authority must be the loopback host (and port): no userinfo, no `\` (which a
    # browser reads as `/`, so `http://evil\@127.0.0.1/` would go to `evil`), no controls
    plain = not any(ch in text for ch in "\\@") and text.isprintable() and " " not in text
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    authority_is_host = parts.netloc in {host, f"{host}:{_port(parts)}"}
    if (
        parts.scheme != "http"
        or parts.hostname not in _LOOPBACK_HOSTS
        or parts.fragment
        or not plain
        or not authority_is_host
    ):
        raise OAuthError(
            "invalid_request",
            f"redirect_uri must be http://127.0.0.1:PORT/PATH (a loopback address), got `{uri}`",
        )
    return str(uri)


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


class CliGrants:
    def __init__(
        self,
        records: BrowserSessionRepository,
        one_time: OneTimeUse,
        *,
        clock: Clock,
        rng: Random,
        session_lifetime: timedelta,
    ) -> None:
        self._records = records
        self._one_time = one_time
        self._clock = clock
        self._rng = rng
        self._session_lifetime = session_lifetime

    # --- device authorization grant -------------------------------------------------

    def start_device(self) -> DeviceStart:
        device_code = self._secret()
        user_code = "".join(self._rng.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        grant = {"status": "pending", "user_code": user_code, "last_poll": ""}
        self._put(_key("device", device_code), grant, DEVICE_LIFETIME)
        self._put(
            _key("user-code", user_code), {"device": _key("device", device_code)}, DEVICE_LIFETIME
        )
        seconds = int(DEVICE_LIFETIME.total_seconds())
        return DeviceStart(device_code, user_code, seconds, POLL_INTERVAL)

    def pending_user_code(self, typed: str) -> str | None:
        """The normalised user code when it names a device grant still waiting, else None."""
        code = normalise_user_code(typed)
        found = self._device_of(code)
        return code if found is not None and found[1].get("status") == "pending" else None

    def decide(self, typed: str, signed_in: dict[str, Any] | None) -> None:
        """Approve (with who approved) or deny (`signed_in` None) a waiting device grant."""
        code = normalise_user_code(typed)
        found = self._device_of(code)
        if found is None or found[1].get("status") != "pending":
            raise OAuthError("invalid_grant", f"the code `{typed}` is unknown or expired")
        _, grant, record = found
        grant = {**grant, "status": "approved" if signed_in else "denied", "who": signed_in}
        self._records.put(_replace(record, grant, self._clock.now()))
        self._records.remove(_key("user-code", code))

    def poll(self, device_code: str) -> AccessGrant:
        key = _key("device", device_code)
        record = self._records.get(key)
        if record is None:
            raise OAuthError("expired_token", "the device code is unknown or has expired")
        grant = json.loads(record.payload)
        status = grant.get("status")
        if status == "pending":
            self._pace(record, grant)
        if status == "denied":
            self._records.remove(key)
            raise OAuthError("access_denied", "the sign-in was refused in the browser")
        if not self._one_time.use_once(f"cli-grant:{key}", record.expires_at):
            raise OAuthError("invalid_grant", "the device code was already used")
        self._records.remove(key)
        return self._open_session(grant["who"])

    def _pace(self, record: BrowserSessionRecord, grant: dict[str, Any]) -> None:
        now = self._clock.now()
        last = grant.get("last_poll")
        self._records.put(_replace(record, {**grant, "last_poll": now.isoformat()}, now))
        if last and now - datetime.fromisoformat(last) < timedelta(seconds=POLL_INTERVAL):
            raise OAuthError("slow_down", f"poll at most every {POLL_INTERVAL} seconds")
        raise OAuthError("authorization_pending", "the code has not been confirmed yet")

    def _device_of(self, code: str) -> tuple[str, dict[str, Any], BrowserSessionRecord] | None:
        pointer = self._records.get(_key("user-code", code)) if code else None
        if pointer is None:
            return None
        device_key = json.loads(pointer.payload)["device"]
        record = self._records.get(device_key)
        return None if record is None else (device_key, json.loads(record.payload), record)

    # --- authorization code with PKCE -----------------------------------------------

    def issue_code(self, signed_in: dict[str, Any], redirect_uri: str, challenge: str) -> str:
        code = self._secret()
        payload = {"who": signed_in, "redirect_uri": redirect_uri, "challenge": challenge}
        self._put(_key("code", code), payload, CODE_LIFETIME)
        return code

    def redeem_code(self, code: str, redirect_uri: str, verifier: str) -> AccessGrant:
        key = _key("code", code)
        record = self._records.get(key)
        if record is None or not self._one_time.use_once(f"cli-grant:{key}", record.expires_at):
            raise OAuthError("invalid_grant", "the code is unknown, expired or already used")
        self._records.remove(key)
        grant = json.loads(record.payload)
        if grant["redirect_uri"] != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization's")
        if not hmac.compare_digest(s256(verifier), grant["challenge"]):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        return self._open_session(grant["who"])

    # --- CLI sessions -------------------------------------------------------------------

    def session(self, access_token: str) -> dict[str, Any] | None:
        record = self._records.get(_key("cli-session", access_token)) if access_token else None
        return None if record is None else dict(json.loads(record.payload)["who"])

    def revoke(self, access_token: str) -> None:
        self._records.remove(_key("cli-session", access_token))

    def _open_session(self, who: dict[str, Any]) -> AccessGrant:
        token = self._secret()
        self._put(_key("cli-session", token), {"who": who}, self._session_lifetime)
        seconds = int(self._session_lifetime.total_seconds())
        return AccessGrant(token, seconds, str(who.get("display_name", "")))

    # --- storage helpers ----------------------------------------------------------------

    def _secret(self) -> str:
        return base64.urlsafe_b64encode(self._rng.token_bytes(32)).decode().rstrip("=")

    def _put(self, key: str, payload: dict[str, Any], lifetime: timedelta) -> None:
        now = self._clock.now()
        text = json.dumps(payload, separators=(",", ":"))
        self._records.put(BrowserSessionRecord(key, text, now, now, now + lifetime))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _key(kind: str, secret: str) -> str:
    return hashlib.sha256(f"{kind}:{secret}".encode()).hexdigest()


def _replace(
    record: BrowserSessionRecord, payload: dict[str, Any], now: datetime
) -> BrowserSessionRecord:
    text = json.dumps(payload, separators=(",", ":"))
    return BrowserSessionRecord(record.key, text, record.created_at, now, record.expires_at)
