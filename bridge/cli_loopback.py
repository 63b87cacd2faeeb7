"""`bridge login` with a browser: authorization code + PKCE to a loopback redirect.

RFC 8252 §7.3 (loopback interface redirection) and RFC 7636 (PKCE, S256): the CLI
listens on 127.0.0.1 on a port the system picks, opens the bridge's `/oauth/authorize`
page in the browser, and receives the code on `/callback`. `state` ties the answer to
this attempt; the verifier never leaves this process until the code is exchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

from bridge.cli_files import SignInSession
from bridge.cli_signin import CLIENT_ID, call, session_from_token
from bridge.errors import ClientFault

PAGE = (
    "<!doctype html><html lang=en><title>bridge sign-in</title>"
    "<h1>{heading}</h1><p>You may close this window and return to the terminal.</p></html>"
)


class _Callback(BaseHTTPRequestHandler):
    received: dict[str, str] | None = None

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        query = dict(urllib.parse.parse_qsl(parts.query))
        type(self).received = query
        heading = "Signed in" if "code" in query else "Sign-in failed"
        body = PAGE.format(heading=heading).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal shows only what the person needs."""


def loopback_sign_in(
    url: str,
    *,
    open_browser: Callable[[str], bool] = webbrowser.open,
    timeout: float = 300.0,
) -> SignInSession | None:
    """Sign in through the browser; None when no browser could be opened."""
    handler = type("Callback", (_Callback,), {"received": None})
    server = HTTPServer(("127.0.0.1", 0), handler)
    try:
        redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        if not open_browser(_authorize_url(url, redirect_uri, verifier, state)):
            return None
        received = _wait(server, handler, timeout)
    finally:
        server.server_close()
    code = _check_answer(received, state)
    reply = call(
        f"{url}/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
        },
    )
    if reply.status != 200:
        raise ClientFault(f"sign-in failed: {reply.body.get('error', reply.status)}")
    return session_from_token(url, reply, datetime.now(UTC))


def _authorize_url(url: str, redirect_uri: str, verifier: str, state: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return f"{url}/oauth/authorize?{urllib.parse.urlencode(query)}"


def _wait(server: HTTPServer, handler: type[_Callback], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    server.timeout = 1.0  # handle_request returns after this even when nobody called
    while handler.received is None and time.monotonic() < deadline:
        server.handle_request()
    if handler.received is None:
        raise ClientFault("sign-in timed out: the browser never returned to this command")
    return handler.received


def _check_answer(received: dict[str, str], state: str) -> str:
    if not hmac.compare_digest(received.get("state", ""), state):
        raise ClientFault("sign-in refused: the answer's `state` does not match this attempt")
    if "error" in received:
        raise ClientFault(f"sign-in refused: {received['error']}")
    code = received.get("code")
    if not code:
        raise ClientFault("sign-in failed: the answer carries no code")
    return code
