"""Authenticate a SigV4-signed request to a `Caller`.

The signature is checked first (`sigv4.verify`), with the secret looked up:

- Long-term keys (no security token): through the directory; only an Active key of an
  existing user (or of the root account) has a secret, so inactive or deleted keys
  stop working (read through the directory cache: at once at this instance, within
  about a second at others). A successful use records the key's last use, at most
  once a minute per key (`KeyUse`).
- Temporary credentials (a signed `X-Amz-Security-Token`): the session token is
  opened with the key ring, without a database read (and kept opened in this process,
  `OpenedTokens`, so a busy session is decrypted once); the access key id it holds must
  be the one in the credential scope, and the secret comes from the token. An expired
  token is refused with `ExpiredToken` before the signature is checked. Once the
  signature holds, the revocation rules are consulted: a revoked session is refused
  with `InvalidClientTokenId` (the credentials are no longer valid, as a deleted key
  is; `ExpiredToken` would invite clients to retry with the same credentials) and a
  message naming the rule. Nothing is written for temporary credentials.
- A bearer session token alone (`authenticate_bearer`, for `/v1/authorize`): opened and
  checked for expiry and revocation the same way, with no signature to check.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from datetime import UTC, datetime

from bridge.authz.key_use import KeyUse
from bridge.authz.opened_tokens import OpenedTokens
from bridge.authz.principal import Caller, session_caller
from bridge.authz.sigv4 import SignedRequest, SigningKeyCache, verify
from bridge.credentials.revocation import RevocationCheck
from bridge.credentials.tokens import SessionClaims, TokenSealer
from bridge.directory import ids
from bridge.directory.keys import AuthenticatedKey
from bridge.directory.service import Directory
from bridge.errors import AuthenticationFailed
from bridge.storage.interfaces import Revocation


class Authenticator:
    """`key_ring` opens session tokens and `revocations` refuses revoked sessions; without
    a key ring every request with a security token is refused."""

    def __init__(
        self,
        directory: Directory,
        *,
        key_ring: TokenSealer | None = None,
        revocations: RevocationCheck | None = None,
    ) -> None:
        self._directory = directory
        self._key_ring = key_ring
        self._revocations = revocations
        self._signing_keys = SigningKeyCache()
        self.key_use = KeyUse(directory.keys)
        self._opened = OpenedTokens()

    def authenticate(
        self, request: SignedRequest, *, now: datetime, services: Collection[str]
    ) -> Caller:
        found: dict[str, AuthenticatedKey | SessionClaims] = {}

        def lookup(access_key_id: str, security_token: str | None) -> str | None:
            if security_token is not None:
                return self._session_secret(access_key_id, security_token, now, found)
            key = self._directory.cached.access_key(access_key_id)
            if key is None:
                return None
            found["key"] = key
            return key.secret.decode("ascii")

        signed = verify(
            request, lookup, now=now, services=services, signing_keys=self._signing_keys
        )
        proof = found["key"]
        if isinstance(proof, SessionClaims):
            self._check_revocation(proof, now)
            return session_caller(proof, region=signed.region, service=signed.service)
        self.key_use.record(proof.key.access_key_id, signed.service, signed.region, now=now)
        return self._caller(proof, signed.region, signed.service)

    def authenticate_bearer(
        self, token: str, *, now: datetime, region: str, service: str
    ) -> Caller:
        """The caller holding the session token `token` of temporary credentials, with no
        signature (a bearer token): opened with the key ring, refused when expired
        (`ExpiredToken`) or revoked (`InvalidClientTokenId`), as for a signed request."""
        if self._key_ring is None:
            raise AuthenticationFailed(
                "InvalidClientTokenId", "this bridge has no key ring to open session tokens"
            )
        claims = self._opened.open(token, self._key_ring, now=now)
        self._check_revocation(claims, now)
        return session_caller(claims, region=region, service=service)

    def _session_secret(
        self,
        access_key_id: str,
        token: str,
        now: datetime,
        found: dict[str, AuthenticatedKey | SessionClaims],
    ) -> str | None:
        if self._key_ring is None:
            return None
        claims = self._opened.open(token, self._key_ring, now=now)
        if not hmac.compare_digest(claims.access_key_id, access_key_id):
            raise AuthenticationFailed(
                "InvalidClientTokenId",
                f"the security token was not issued for the access key id `{access_key_id}` "
                "in the credential scope",
            )
        found["key"] = claims
        return claims.secret_access_key

    def _check_revocation(self, claims: SessionClaims, now: datetime) -> None:
        if self._revocations is None:
            return
        rule = self._revocations.revoked_by(claims, now=now)
        if rule is not None:
            raise AuthenticationFailed("InvalidClientTokenId", _revoked_message(claims, rule))

    def _caller(self, key: AuthenticatedKey, region: str, service: str) -> Caller:
        account = self._directory.account_id
        if key.user is None:
            return Caller(
                kind="root",
                arn=ids.root_arn(account),
                account_id=account,
                principal_id=account,
                name=None,
                access_key_id=key.key.access_key_id,
                region=region,
                service=service,
            )
        user = key.user
        return Caller(
            kind="user",
            arn=ids.entity_arn(account, "user", user.path, user.name),
            account_id=account,
            principal_id=user.user_id,
            name=user.name,
            access_key_id=key.key.access_key_id,
            region=region,
            service=service,
            tags=user.tags,
        )


def _revoked_message(claims: SessionClaims, rule: Revocation) -> str:
    when = rule.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if rule.kind == "session":
        return f"the session of access key `{claims.access_key_id}` was revoked at {when}"
    cut = (rule.not_before or rule.created_at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"the sessions of `{claims.subject_arn}` issued before {cut} were revoked at {when}; "
        "request new credentials"
    )
