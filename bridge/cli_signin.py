"""`bridge login` and `bridge credential-process`: credentials on the command line.

`bridge login` signs a person in through the bridge's own browser portal (and so
through their identity provider) and keeps a bearer token for the CLI endpoints:
- with a browser: the authorization code flow with PKCE to a loopback redirect
  (RFC 8252 §7.3, RFC 7636), the way `aws sso login` opens the browser;
- without one (`--no-browser`, or when none can be opened): the device authorization
  grant (RFC 8628): the person opens the verification page anywhere, signs in, and
  confirms the code shown here, while this command polls the token endpoint.

`bridge credential-process --role ARN` prints credentials in the AWS
`credential_process` format, cached on disk (0600) until shortly before they expire
and renewed silently while the sign-in session lasts.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.cli_files import CliFiles, SignInSession, parse_time
from bridge.errors import ClientFault

CLIENT_ID = "bridge-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RENEW_BEFORE = timedelta(minutes=5)  # renew cached credentials this long before expiry
TIMEOUT = 10.0


class SignInRequired(ClientFault):
    """The CLI has no live sign-in session for the profile."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: dict[str, Any]


def call(
    url: str,
    *,
    form: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
    token: str | None = None,
) -> HttpReply:
    """One HTTP call to the bridge; the JSON answer whatever the status."""
    headers = {"Accept": "application/json", "User-Agent": "bridge-cli"}
    data: bytes | None = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif payload is not None:
        data = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return HttpReply(response.status, _json(response.read()))
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, _json(error.read()))
    except (urllib.error.URLError, OSError) as error:
        raise ClientFault(f"cannot reach the bridge at `{url}`: {error}") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ClientFault(f"--url must be an absolute http(s) URL, got `{url}`")
    return url.rstrip("/")


def session_from_token(url: str, reply: HttpReply, now: datetime) -> SignInSession:
    token = reply.body.get("access_token")
    lifetime = reply.body.get("expires_in")
    if not isinstance(token, str) or not isinstance(lifetime, int):
        raise ClientFault("the bridge's token answer has no access_token and expires_in")
    expires = now + timedelta(seconds=lifetime)
    return SignInSession(
        url=url,
        access_token=token,
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        display_name=str(reply.body.get("display_name") or ""),
    )


def device_sign_in(url: str, *, echo: Any = None, sleep: Any = time.sleep) -> SignInSession:
    """RFC 8628 §3.1-3.5: ask for a code, show it, poll until confirmed or refused."""
    say = echo or (lambda text: print(text, file=sys.stderr))
    started = call(f"{url}/oauth/device_authorization", form={"client_id": CLIENT_ID})
    if started.status != 200:
        raise ClientFault(f"the bridge refused to start a device sign-in: {_why(started)}")
    body = started.body
    say(
        f"To sign in, open {body['verification_uri']} and confirm the code "
        f"{body['user_code']}\n(or open {body['verification_uri_complete']})"
    )
    interval = int(body.get("interval", 5))
    deadline = time.monotonic() + int(body.get("expires_in", 600))
    while time.monotonic() < deadline:
        sleep(interval)
        form = {"grant_type": DEVICE_GRANT, "device_code": body["device_code"]}
        reply = call(f"{url}/oauth/token", form={**form, "client_id": CLIENT_ID})
        if reply.status == 200:
            return session_from_token(url, reply, datetime.now(UTC))
        error = reply.body.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise ClientFault(f"sign-in failed: {_why(reply)}")
    raise ClientFault("sign-in failed: the code expired before it was confirmed")


def _why(reply: HttpReply) -> str:
    error = reply.body.get("error") or f"HTTP {reply.status}"
    detail = reply.body.get("error_description") or reply.body.get("message") or ""
    return f"{error} ({detail})" if detail else str(error)


def credential_process(
    files: CliFiles, profile: str, role_arn: str, duration: int | None, now: datetime
) -> dict[str, Any]:
    """Cached credentials while they last, else new ones from the sign-in session."""
    cached = files.cached_credentials(profile, role_arn)
    if cached is not None and _fresh(cached, now):
        return cached
    session = files.load_session(profile)
    if session is None or session.expired(now):
        raise SignInRequired(
            f"not signed in for profile `{profile}`: run `bridge login --profile {profile}`"
        )
    payload: dict[str, Any] = {"role_arn": role_arn}
    if duration is not None:
        payload["duration_seconds"] = duration
    reply = call(f"{session.url}/v1/cli/credentials", payload=payload, token=session.access_token)
    if reply.status == 401:
        raise SignInRequired(
            f"the sign-in session for profile `{profile}` has ended: run `bridge login "
            f"--profile {profile}`"
        )
    if reply.status != 200:
        raise ClientFault(f"the bridge refused credentials for `{role_arn}`: {_why(reply)}")
    files.cache_credentials(profile, role_arn, reply.body)
    return reply.body


def _fresh(credentials: dict[str, Any], now: datetime) -> bool:
    try:
        return parse_time(str(credentials["Expiration"])) - RENEW_BEFORE > now
    except (KeyError, ValueError):
        return False
