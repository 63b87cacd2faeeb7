"""OIDC ID tokens and web-identity tokens → `VerifiedIdentity` (contract §3.2).

The one module that imports a JOSE library (joserfc, the JOSE package Authlib itself
builds on). Order (CONVENTIONS 4): size and shape, header (algorithm allow-list
before any key lookup), key from the provider's JWKS only, signature, then the
declared claims table, then the identity.

Header parameters `jwk`, `jku`, `x5u`, `x5c`, `x5t` are never read (RFC 8725 3.10):
keys come from `<provider url>/.well-known/openid-configuration` → `jwks_uri`. No
replay check here: the federation step keys one-time use by `message_id` and role.

Session tags and source identity (`https://aws.amazon.com/tags`,
`https://aws.amazon.com/source_identity`) are validated here and kept in
`attributes` under those claim names (the tags object compact-JSON-encoded); read
them with `session_tags()`, `transitive_tag_keys()` and `source_identity()`, which
live in `session_tags` and are re-exported here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from bridge.clock import Clock
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.errors import ExpiredIdentityToken, InvalidIdentityToken
from bridge.verify.http import Fetcher, url_refusal
from bridge.verify.identity import VerifiedIdentity, as_values
from bridge.verify.jwks import (
    ALGORITHM_KTY,
    JWK,
    JWKSCache,
    KeyLookup,
    by_kid,
    key_unfit,
    load_provider_keys,
    only_fit,
)
from bridge.verify.key_cache import ImportedKeys
from bridge.verify.session_tags import (
    MAX_SESSION_TAGS,
    SOURCE_IDENTITY_CLAIM,
    TAGS_CLAIM,
    SessionTags,
    parse_tags,
    session_tags,
    source_identity,
    transitive_tag_keys,
)

# moved to `session_tags`; still importable from here (`federate.py` and the tests use them)
__all__ = [
    "MAX_SESSION_TAGS",
    "SOURCE_IDENTITY_CLAIM",
    "TAGS_CLAIM",
    "SessionTags",
    "parse_tags",
    "session_tags",
    "source_identity",
    "transitive_tag_keys",
]

ALGORITHMS = tuple(ALGORITHM_KTY)  # what STS accepts: RS256/384/512, ES256/384/512
MIN_RSA_BITS = 2048  # RFC 7518 3.3
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

Kind = Literal["string", "strings", "list", "time", "object"]  # list: may be empty


@dataclass(frozen=True)
class Claim:
    name: str
    required: bool
    kind: Kind


# OIDC Core 2 and 3.1.3.7; anything not listed is neither required nor checked.
CLAIMS = (
    Claim("iss", True, "string"),
    Claim("sub", True, "string"),
    Claim("aud", True, "strings"),
    Claim("exp", True, "time"),
    Claim("iat", True, "time"),
    Claim("nbf", False, "time"),
    Claim("auth_time", False, "time"),
    Claim("azp", False, "string"),
    Claim("amr", False, "strings"),
    Claim("jti", False, "string"),
    Claim("email", False, "string"),
    Claim("groups", False, "list"),  # `[]` is no groups, not a fault (CONVENTIONS 3)
    Claim(TAGS_CLAIM, False, "object"),
    Claim(SOURCE_IDENTITY_CLAIM, False, "string"),
)
# claims carried by dedicated identity fields, so left out of `attributes`
_FIELD_CLAIMS = frozenset({"iss", "sub", "exp", "auth_time", "jti", "amr", "groups"})


class OIDCVerifier:
    """Verify a compact JWS ID token against an IAM OIDC provider record."""

    def __init__(
        self,
        *,
        clock: Clock,
        fetcher: Fetcher,
        jwks_cache: JWKSCache,
        max_token_bytes: int = 20000,
        clock_skew: timedelta = timedelta(seconds=60),
    ) -> None:
        self._clock = clock
        self._fetcher = fetcher
        self._cache = jwks_cache
        self._max_bytes = max_token_bytes
        self._skew = clock_skew
        self._imported: ImportedKeys[Key] = ImportedKeys()

    def verify(self, token: str, provider: OIDCProvider) -> VerifiedIdentity:
        """OIDC Core 3.1.3.7: signature with a key of the provider's JWKS, then the claims."""
        token = token.strip()
        self._check_size(token)
        reason = url_refusal(provider.url)
        if reason is not None:
            raise InvalidIdentityToken(f"provider url `{provider.url}` is refused: {reason}")
        alg, kid = check_header(decode_segment(token, 0, "header"))
        now = self._clock.now()
        claims = verify_signature(token, self._key(provider.url, alg, kid, now), alg)
        values = check_claims(claims)
        check_issuer(values, provider)
        audience = check_audience(values, provider)
        self._check_times(values, now)
        return build_identity(token, claims, values, provider, audience)

    def _check_size(self, token: str) -> None:
        size = len(token.encode("utf-8"))
        if size > self._max_bytes:
            raise InvalidIdentityToken(
                f"token is {size} bytes, more than the {self._max_bytes} allowed"
            )

    def _key(self, issuer: str, alg: str, kid: str | None, now: datetime) -> Key:
        select = by_kid(kid, alg) if kid is not None else only_fit(alg)
        load = partial(load_provider_keys, self._fetcher, issuer)
        lookup = self._cache.find(issuer, select, now=now, load=load)
        if lookup.key is None:
            raise InvalidIdentityToken(_missing_key_message(issuer, alg, kid, lookup))
        unfit = key_unfit(lookup.key, alg)
        if unfit is not None:
            raise InvalidIdentityToken(f"key `{kid}` of `{issuer}` cannot check `{alg}`: {unfit}")
        return self._imported.get(lookup.key, lambda jwk: import_jwk(jwk, issuer))

    def _check_times(self, values: Mapping[str, Any], now: datetime) -> None:
        """OIDC Core 3.1.3.7 steps 9-10 and RFC 7519 4.1.5, each with the clock skew."""
        skew = self._skew.total_seconds()
        late = (now - values["exp"]).total_seconds()
        if late > skew:
            raise ExpiredIdentityToken(
                f"token expired at `{_iso(values['exp'])}`, {late:.0f} s before the bridge's "
                f"clock (`{_iso(now)}`), beyond the allowed clock skew of {skew:.0f} s"
            )
        for name in ("nbf", "iat"):
            early = (values[name] - now).total_seconds() if name in values else 0.0
            if early > skew:
                raise InvalidIdentityToken(
                    f"claim `{name}` is `{_iso(values[name])}`, {early:.0f} s after the "
                    f"bridge's clock (`{_iso(now)}`), beyond the allowed clock skew of "
                    f"{skew:.0f} s"
                )


# --- token shape and header ------------------------------------------------------


def decode_segment(token: str, index: int, what: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) == 5:
        raise InvalidIdentityToken("token is encrypted (JWE); a signed JWT (JWS) is required")
    if len(parts) != 3:
        raise InvalidIdentityToken(f"token has {len(parts)} dot-separated parts, a JWT has 3")
    return parse_json_object(b64url_decode(parts[index], what), what)


def b64url_decode(segment: str, what: str) -> bytes:
    """RFC 7515 2: base64url without padding, nothing else."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidIdentityToken(f"token {what} is not base64url without padding")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidIdentityToken(f"token {what} is not base64url: {error}") from error


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_unique_members, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidIdentityToken(f"token {what} is not UTF-8 JSON: {error}") from error
    if not isinstance(value, dict):
        raise InvalidIdentityToken(f"token {what} must be a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 7515 5.2 / RFC 7519 7.2: duplicate member names are refused."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member name appears more than once")
    return members


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON")


def check_header(header: Mapping[str, Any]) -> tuple[str, str | None]:
    """The algorithm and key id; refuses every other algorithm before any key lookup."""
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidIdentityToken(
            f"header `alg` is `{_show(alg)}`; accepted: {', '.join(ALGORITHMS)}"
        )
    if "crit" in header:
        raise InvalidIdentityToken("header `crit` is present; no JWS extension is supported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidIdentityToken(f"header `kid` must be a string, got `{_show(kid)}`")
    return alg, kid


def _missing_key_message(issuer: str, alg: str, kid: str | None, lookup: KeyLookup) -> str:
    when = _iso(lookup.attempted_at) if lookup.attempted_at else "never"
    retry = _iso(lookup.next_fetch_at) if lookup.next_fetch_at else "now"
    if kid is None:
        return (
            f"token has no header `kid` and the JWKS of `{issuer}` does not hold exactly one "
            f"`{alg}` key (OIDC Core 10.1); last fetched at `{when}`"
        )
    return (
        f"no key with `kid` `{kid}` in the JWKS of `{issuer}` (last fetched at `{when}`; "
        f"the next fetch is allowed at `{retry}`)"
    )


# --- signature ---------------------------------------------------------------------


def import_jwk(jwk: JWK, issuer: str) -> Key:
    name = jwk.get("kid", "(no kid)")
    if jwk.get("kty") == "RSA":
        bits = _rsa_bits(jwk.get("n"))
        if bits < MIN_RSA_BITS:
            raise InvalidIdentityToken(
                f"key `{name}` of `{issuer}` has {bits} bits, fewer than {MIN_RSA_BITS}"
            )
    public = {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
    try:
        return JWKRegistry.import_key(public)
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidIdentityToken(f"key `{name}` of `{issuer}` is not a usable JWK") from error


def _rsa_bits(modulus: object) -> int:
    if not isinstance(modulus, str):
        return 0
    try:
        return int.from_bytes(b64url_decode(modulus, "key modulus"), "big").bit_length()
    except InvalidIdentityToken:
        return 0


def verify_signature(token: str, key: Key, alg: str) -> dict[str, Any]:
    """The payload, once the signature checks out with `key` under `alg` only."""
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidIdentityToken(f"token signature does not verify ({alg})") from error
    return parse_json_object(verified.payload, "payload")


# --- claims table ------------------------------------------------------------------


def check_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Each declared claim present when required and of its type; times as datetimes."""
    values: dict[str, Any] = {}
    for claim in CLAIMS:
        if claim.name not in claims:
            if claim.required:
                raise InvalidIdentityToken(f"claim `{claim.name}` is required and missing")
            continue
        values[claim.name] = _typed(claim, claims[claim.name])
    if TAGS_CLAIM in values:
        parse_tags(values[TAGS_CLAIM])
    return values


def _typed(claim: Claim, value: Any) -> Any:
    if claim.kind == "string" and isinstance(value, str) and value:
        return value
    if claim.kind == "strings" and _is_strings(value):
        return (value,) if isinstance(value, str) else tuple(value)
    if claim.kind == "list" and (value == [] or _is_strings(value)):
        return (value,) if isinstance(value, str) else tuple(value)
    if claim.kind == "time" and _is_time(value):
        return datetime.fromtimestamp(value, UTC)
    if claim.kind == "object" and isinstance(value, dict):
        return value
    rule = {
        "string": "a non-empty string",
        "strings": "a string or an array of strings",
        "list": "a string or an array of strings",
        "time": "a NumericDate (seconds since 1970)",
        "object": "a JSON object",
    }[claim.kind]
    raise InvalidIdentityToken(f"claim `{claim.name}` must be {rule}, got `{_show(value)}`")


def _is_strings(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _is_time(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value < 253402300800  # before year 10000


def check_issuer(values: Mapping[str, Any], provider: OIDCProvider) -> None:
    """OIDC Core 3.1.3.7 step 2: `iss` equals the provider url exactly."""
    if values["iss"] != provider.url:
        raise InvalidIdentityToken(
            f"claim `iss` is `{_show(values['iss'])}`, expected `{provider.url}` "
            f"(the url of provider `{provider.arn}`, compared exactly)"
        )


def check_audience(values: Mapping[str, Any], provider: OIDCProvider) -> str:
    """OIDC Core 3.1.3.7 steps 3-5: the client id the token was issued to."""
    audiences: tuple[str, ...] = values["aud"]
    azp = values.get("azp")
    if not any(aud in provider.client_ids for aud in audiences):
        raise InvalidIdentityToken(
            f"claim `aud` is `{_show(list(audiences))}`, expected one of the client ids "
            f"`{_show(list(provider.client_ids))}` of provider `{provider.arn}`"
        )
    if len(audiences) == 1:
        return audiences[0]
    if azp is None or azp not in provider.client_ids:
        raise InvalidIdentityToken(
            f"claim `aud` names {len(audiences)} audiences, so claim `azp` must be one of the "
            f"client ids `{_show(list(provider.client_ids))}`; got `{_show(azp)}`"
        )
    return str(azp)


# --- identity ----------------------------------------------------------------------


def build_identity(
    token: str,
    claims: Mapping[str, Any],
    values: Mapping[str, Any],
    provider: OIDCProvider,
    audience: str,
) -> VerifiedIdentity:
    amr: tuple[str, ...] = values.get("amr", ())
    return VerifiedIdentity(
        protocol="oidc",
        provider_arn=provider.arn,
        issuer=values["iss"],
        subject=values["sub"],
        audience=audience,
        expires_at=values["exp"],
        message_id=values.get("jti") or hashlib.sha256(token.encode("utf-8")).hexdigest(),
        authenticated_at=values.get("auth_time"),
        mfa="mfa" in amr,
        amr=amr,
        groups=values.get("groups", ()),
        attributes={
            name: as_values(value)
            for name, value in claims.items()
            if name not in _FIELD_CLAIMS and value is not None
        },
    )


def _show(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")
