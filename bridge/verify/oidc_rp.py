"""The OIDC relying party of the browser sign-in: authorization code flow with PKCE.

- Discovery (OIDC Discovery 4): `<issuer>/.well-known/openid-configuration`, its
  `issuer` equal to the configured one, cached for an hour.
- `begin()`: random `state` and `nonce` and a PKCE `code_verifier` (RFC 7636 4.1, S256
  challenge 4.2) from the injected rng; the caller keeps them in the browser session
  keyed by `state` (one-time).
- `complete()`: `error` answers become a clear refusal; `iss` in the response, when
  present or promised by discovery, must equal the issuer (RFC 9207 2.4); the code is
  exchanged with client_secret_basic (RFC 6749 2.3.1); the ID token is verified by
  `OIDCVerifier` against the IAM OIDC provider of the issuer, then its `nonce` (OIDC
  Core 3.1.3.7 step 11) and `at_hash` (3.1.3.8) are checked; userinfo is read when
  configured and its `sub` must equal the token's (5.3.2). Groups come from the
  configured claim (missing = empty); an Entra ID overage (`_claim_names.groups`)
  without a configured lookup is reported clearly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bridge.clock import Clock, Random
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.errors import IdPCommunicationError, InvalidIdentityToken
from bridge.verify.http import Fetcher, url_refusal
from bridge.verify.identity import VerifiedIdentity, as_values
from bridge.verify.jwks import discovery_url
from bridge.verify.login_errors import GroupsOverage, LoginRefused
from bridge.verify.oidc import OIDCVerifier, decode_segment
from bridge.verify.oidc_rp_http import RPHttp

DISCOVERY_TTL = timedelta(hours=1)
_AT_HASH = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    iss_parameter_supported: bool


@dataclass(frozen=True)
class RPConfig:
    name: str  # the login provider name
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    use_userinfo: bool = False
    groups_claim: str = "groups"
    overage_url: str | None = None  # group lookup when the token says they did not fit


class DiscoveryCache:
    """Discovery documents per issuer, each kept `DISCOVERY_TTL` (one per app)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._entries: dict[str, tuple[Discovery, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, issuer: str, now: datetime) -> Discovery:
        with self._lock:
            cached = self._entries.get(issuer)
        if cached is not None and now < cached[1]:
            return cached[0]
        found = self._load(issuer)
        with self._lock:
            self._entries[issuer] = (found, now + DISCOVERY_TTL)
        return found

    def _load(self, issuer: str) -> Discovery:
        url = discovery_url(issuer)
        result = self._fetcher.fetch(url)
        if result.status != 200:
            raise IdPCommunicationError(f"discovery at `{url}` answered HTTP {result.status}")
        try:
            document = json.loads(result.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise IdPCommunicationError(f"discovery at `{url}` is not JSON") from exc
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise IdPCommunicationError(
                f"discovery at `{url}` does not name the issuer `{issuer}` (Discovery 4.3)"
            )
        return Discovery(
            issuer=issuer,
            authorization_endpoint=_endpoint(document, "authorization_endpoint", url),
            token_endpoint=_endpoint(document, "token_endpoint", url),
            userinfo_endpoint=(
                _endpoint(document, "userinfo_endpoint", url)
                if "userinfo_endpoint" in document
                else None
            ),
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
            is True,
        )


def _endpoint(document: Mapping[str, Any], name: str, url: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or url_refusal(value) is not None:
        raise IdPCommunicationError(f"discovery at `{url}`: `{name}` is missing or refused")
    return value


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class OIDCRelyingParty:
    def __init__(
        self,
        config: RPConfig,
        *,
        clock: Clock,
        rng: Random,
        discovery: DiscoveryCache,
        http: RPHttp,
        verifier: OIDCVerifier,
        provider_record: Callable[[str], OIDCProvider],
    ) -> None:
        self.config = config
        self._clock, self._rng = clock, rng
        self._discovery, self._http, self._verifier = discovery, http, verifier
        self._provider_record = provider_record

    def begin(self) -> tuple[str, dict[str, str]]:
        """The authorization URL and what to keep for the callback (keyed by `state`)."""
        self._check_provider_record()
        found = self._discovery.get(self.config.issuer, self._clock.now())
        state, nonce = _b64url(self._rng.token_bytes(32)), _b64url(self._rng.token_bytes(32))
        verifier = _b64url(self._rng.token_bytes(48))  # 64 characters (RFC 7636 4.1)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_uri,
                "scope": " ".join(self.config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        joiner = "&" if "?" in found.authorization_endpoint else "?"
        pending = {"state": state, "nonce": nonce, "code_verifier": verifier}
        return f"{found.authorization_endpoint}{joiner}{query}", pending

    def _check_provider_record(self) -> None:
        """Fail before the round trip: the IAM OIDC provider must list this client id."""
        record = self._provider_record(self.config.issuer)
        if self.config.client_id not in record.client_ids:
            raise LoginRefused(
                f"the IAM OpenID Connect provider `{record.arn}` does not list the client id "
                f"`{self.config.client_id}` of sign-in provider `{self.config.name}`"
            )

    def complete(self, params: Mapping[str, str], pending: Mapping[str, str]) -> VerifiedIdentity:
        """The verified identity of a callback whose `state` matched `pending`."""
        found = self._discovery.get(self.config.issuer, self._clock.now())
        _check_response(params, pending, found)
        tokens = self._exchange(params["code"], pending["code_verifier"], found)
        provider = self._provider_record(self.config.issuer)
        identity = self._verifier.verify(tokens["id_token"], provider)
        self._check_id_token(identity, tokens, pending)
        claims: dict[str, tuple[str, ...]] = dict(identity.attributes)
        if self.config.use_userinfo:
            claims.update(self._userinfo(found, tokens, identity.subject))
        return self._with_groups(identity, claims, tokens.get("access_token", ""))

    def _exchange(self, code: str, verifier: str, found: Discovery) -> dict[str, str]:
        """RFC 6749 4.1.3 with client_secret_basic (2.3.1: form-encoded id and secret)."""
        client_id, secret = self.config.client_id, self.config.client_secret
        basic = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        status, answer = self._http.request_json(
            found.token_endpoint,
            headers={"Authorization": "Basic " + base64.b64encode(basic.encode()).decode()},
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.config.redirect_uri,
                "code_verifier": verifier,
            },
        )
        if status != 200:
            error = str(answer.get("error", f"HTTP {status}"))[:100]
            raise LoginRefused(
                f"the identity provider `{self.config.name}` refused the code exchange: `{error}`"
            )
        token = answer.get("id_token")
        if not isinstance(token, str):
            raise LoginRefused(
                f"the token response of `{self.config.name}` has no `id_token` (OIDC Core 3.1.3.3)"
            )
        access = answer.get("access_token")
        return {"id_token": token, "access_token": access if isinstance(access, str) else ""}

    def _check_id_token(
        self, identity: VerifiedIdentity, tokens: Mapping[str, str], pending: Mapping[str, str]
    ) -> None:
        if identity.audience != self.config.client_id:
            raise InvalidIdentityToken(
                f"the ID token was issued to `{identity.audience}`, not to this client "
                f"`{self.config.client_id}`"
            )
        nonce = identity.attribute("nonce")
        expected = pending.get("nonce", "")
        if len(nonce) != 1 or not expected or not hmac.compare_digest(nonce[0], expected):
            raise InvalidIdentityToken(
                "claim `nonce` does not match the sign-in this browser started "
                "(OIDC Core 3.1.3.7 step 11)"
            )
        at_hash = identity.attribute("at_hash")
        if at_hash and tokens.get("access_token"):
            check_at_hash(tokens["id_token"], tokens["access_token"], at_hash[0])

    def _userinfo(
        self, found: Discovery, tokens: Mapping[str, str], subject: str
    ) -> dict[str, tuple[str, ...]]:
        if found.userinfo_endpoint is None or not tokens.get("access_token"):
            raise LoginRefused(
                f"provider `{self.config.name}` is set to use userinfo, but it has no "
                "userinfo endpoint or sent no access token"
            )
        status, info = self._http.request_json(
            found.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        if status != 200:
            raise IdPCommunicationError(f"userinfo of `{self.config.name}` answered HTTP {status}")
        if info.get("sub") != subject:
            raise LoginRefused("userinfo `sub` differs from the ID token's `sub` (OIDC Core 5.3.2)")
        skip = {"sub", "iss", "aud", "exp", "iat", "nonce"}
        return {k: as_values(v) for k, v in info.items() if k not in skip and v is not None}

    def _with_groups(
        self, identity: VerifiedIdentity, claims: dict[str, tuple[str, ...]], access_token: str
    ) -> VerifiedIdentity:
        name = self.config.groups_claim
        groups = claims.get(name)
        if groups is None and name == "groups":
            groups = identity.groups
        if not groups and _overage(claims, name) and self.config.overage_url:
            groups = self._lookup_groups(self.config.overage_url, access_token)
            claims = {**claims, name: groups}
        elif not groups and _overage(claims, name):
            raise GroupsOverage(
                "the token says your groups are too many to include and no group lookup is "
                f"configured for provider `{self.config.name}`"
            )
        return replace(identity, groups=tuple(groups or ()), attributes=claims)

    def _lookup_groups(self, url: str, access_token: str) -> tuple[str, ...]:
        """The configured group lookup, called with the access token: a JSON object with
        `groups` or (Microsoft Graph `getMemberObjects`) `value`, a list of strings or of
        objects with an `id`."""
        if not access_token:
            raise GroupsOverage(
                f"provider `{self.config.name}` sent no access token for the group lookup"
            )
        status, answer = self._http.request_json(
            url, headers={"Authorization": f"Bearer {access_token}"}
        )
        items = answer.get("groups", answer.get("value"))
        if status != 200 or not isinstance(items, list):
            raise IdPCommunicationError(
                f"the group lookup of provider `{self.config.name}` answered HTTP {status} "
                "without a `groups` or `value` list"
            )
        found = [item.get("id") if isinstance(item, dict) else item for item in items]
        return tuple(str(item) for item in found if isinstance(item, str) and item)


def _check_response(
    params: Mapping[str, str], pending: Mapping[str, str], found: Discovery
) -> None:
    state = params.get("state", "")
    if not state or not hmac.compare_digest(state, pending.get("state", "")):
        raise LoginRefused("the `state` of the reply does not match the sign-in this browser began")
    iss = params.get("iss")
    if iss is not None and iss != found.issuer:
        raise LoginRefused(
            f"the reply comes from `{iss}`, not from `{found.issuer}` (RFC 9207 mix-up defence)"
        )
    if iss is None and found.iss_parameter_supported:
        raise LoginRefused("the reply has no `iss` though the provider promises one (RFC 9207)")
    error = params.get("error")
    if error is not None:
        # only the RFC 6749 4.1.2.1 code: its free-text description is the provider's (or
        # an attacker's) words, not shown on this site's page
        code = error if re.fullmatch(r"[a-z_]{1,64}", error) else "unknown_error"
        raise LoginRefused(f"the identity provider did not sign you in: `{code}`")
    if not params.get("code"):
        raise LoginRefused("the reply carries no authorization `code`")


def check_at_hash(id_token: str, access_token: str, at_hash: str) -> None:
    """OIDC Core 3.1.3.8: left half of the hash (of the token's alg) of the access token."""
    alg = str(decode_segment(id_token, 0, "header").get("alg", ""))
    digest = _AT_HASH.get(alg[-3:])
    if digest is None:
        raise InvalidIdentityToken(f"cannot check `at_hash` for algorithm `{alg}`")
    full = digest(access_token.encode("ascii")).digest()
    expected = _b64url(full[: len(full) // 2])
    if not hmac.compare_digest(expected, at_hash):
        raise InvalidIdentityToken("claim `at_hash` does not match the access token")


def _overage(claims: Mapping[str, tuple[str, ...]], name: str) -> bool:
    """Entra ID: `_claim_names: {"groups": "src1"}` replaces a groups claim that was too big."""
    for raw in claims.get("_claim_names", ()):
        try:
            names = json.loads(raw)
        except ValueError:
            continue
        if isinstance(names, dict) and name in names:
            return True
    return False
