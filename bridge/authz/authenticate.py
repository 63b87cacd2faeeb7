"""Authenticate a SigV4-signed request to a `Caller` (long-term access keys).

The signature is checked first (`sigv4.verify`), with the secret looked up through the
directory; only an Active key of an existing user (or of the root account) has a
secret, so inactive or deleted keys stop working at once. A successful use records
the key's last use.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bridge.authz.principal import Caller
from bridge.authz.sigv4 import SignedRequest, SigningKeyCache, verify
from bridge.directory import ids
from bridge.directory.keys import AuthenticatedKey
from bridge.directory.service import Directory


class Authenticator:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._signing_keys = SigningKeyCache()

    def authenticate(
        self, request: SignedRequest, *, now: datetime, services: Collection[str]
    ) -> Caller:
        found: dict[str, AuthenticatedKey] = {}

        def lookup(access_key_id: str, security_token: str | None) -> str | None:
            if security_token is not None:
                return None  # temporary credentials arrive with the STS issue
            key = self._directory.keys.authenticate(access_key_id)
            if key is None:
                return None
            found["key"] = key
            return key.secret.decode("ascii")

        signed = verify(
            request, lookup, now=now, services=services, signing_keys=self._signing_keys
        )
        key = found["key"]
        self._directory.keys.record_use(key.key.access_key_id, signed.service, signed.region)
        return self._caller(key, signed.region, signed.service)

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
