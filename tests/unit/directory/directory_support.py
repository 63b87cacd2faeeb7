"""Helpers of the directory tests: documents, seeded randomness, a real sealer, snapshots."""

from __future__ import annotations

import json
import random
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.directory import HashingConfig
from bridge.storage.interfaces import Store

ACCOUNT = "123456789012"
CHEAP_HASHING = HashingConfig(time_cost=1, memory_cost_kib=8, parallelism=1)


def identity_doc(action: str = "s3:GetObject", resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def trust_doc(provider: str = "corp") -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/{provider}"},
        "Action": "sts:AssumeRoleWithSAML",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


MALFORMED_DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


class SeededRandom:
    """A repeatable `Random` for tests (never for production secrets)."""

    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self._random.randbytes(n)

    def choice(self, alphabet: str) -> str:
        return self._random.choice(alphabet)


class AesGcmSealer:
    """A real authenticated-encryption sealer binding `context` as associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._counter = 0

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        self._counter += 1
        nonce = self._counter.to_bytes(12, "big")
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())


def take_snapshot(store: Store) -> dict[str, Any]:
    """Everything a store holds, read through the repositories."""
    with store.transaction() as uow:
        users, groups = uow.users.list(), uow.groups.list()
        roles, policies = uow.roles.list(), uow.policies.list()
        principals = [u.user_id for u in users] + [g.group_id for g in groups]
        principals += [r.role_id for r in roles]
        return {
            "account": uow.account.get(),
            "users": users,
            "groups": groups,
            "roles": roles,
            "policies": policies,
            "versions": [uow.policy_versions.list(p.policy_id) for p in policies],
            "members": [uow.memberships.groups_of(u.user_id) for u in users],
            "attached": [uow.attachments.policies_of(pid) for pid in principals],
            "inline": [uow.inline_policies.list(pid) for pid in principals],
            "keys": [uow.access_keys.list_for(u.user_id) for u in users],
            "profiles": [uow.login_profiles.get(u.user_id) for u in users],
            "mfa": uow.mfa_devices.list(),
            "saml": uow.saml_providers.list(),
            "oidc": uow.oidc_providers.list(),
        }


def totp_code(seed_base32: str, step: int) -> str:
    """The RFC 6238 code of `step`, as an authenticator app would show it."""
    import pyotp

    return str(pyotp.TOTP(seed_base32).generate_otp(step))
