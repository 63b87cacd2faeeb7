"""Long-term access keys of IAM users; the secret is returned once and stored sealed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bridge.directory import ids
from bridge.directory.context import Context
from bridge.directory.lookup import require_user
from bridge.directory.sealing import access_key_context
from bridge.errors import InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import AccessKey, UnitOfWork, User

MAX_KEYS_PER_USER = 2
KeyStatus = Literal["Active", "Inactive"]


@dataclass(frozen=True)
class CreatedAccessKey:
    """IAM `CreateAccessKey`'s answer: the only time the secret is shown."""

    key: AccessKey
    user_name: str | None  # None for a root account key
    secret_access_key: str

    def __repr__(self) -> str:
        return f"CreatedAccessKey(key={self.key!r}, user_name={self.user_name!r}, secret=…)"


@dataclass(frozen=True)
class AuthenticatedKey:
    """An active key of an existing user, with its secret opened (for the SigV4 verifier)."""

    key: AccessKey
    user: User | None  # None for a key of the root account
    secret: bytes

    def __repr__(self) -> str:
        return f"AuthenticatedKey(key={self.key!r}, user={self.user!r}, secret=…)"


class AccessKeys:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, user_name: str | None) -> CreatedAccessKey:
        """At most two keys per user (IAM quota `AccessKeysPerUser`); None: the root account."""
        with self._ctx.store.transaction() as uow:
            owner_id, owner_name = _owner(uow, user_name)
            if len(uow.access_keys.list_for(owner_id)) >= MAX_KEYS_PER_USER:
                raise LimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                )
            key_id = ids.access_key_id(self._ctx.rng)
            secret = ids.secret_access_key(self._ctx.rng)
            sealed = self._ctx.sealer.seal(secret.encode(), context=access_key_context(key_id))
            key = AccessKey(key_id, owner_id, sealed, "Active", self._ctx.clock.now())
            uow.access_keys.add(key)
            return CreatedAccessKey(key, owner_name, secret)

    def list(self, user_name: str | None) -> list[AccessKey]:
        """A user's keys, or the root account's (None)."""
        with self._ctx.store.transaction() as uow:
            return uow.access_keys.list_for(_owner(uow, user_name)[0])

    def update_status(self, user_name: str | None, access_key_id: str, status: KeyStatus) -> None:
        if status not in ("Active", "Inactive"):
            raise InvalidInput("status", f"`{status}` must be `Active` or `Inactive`")
        with self._ctx.store.transaction() as uow:
            key = _require_key(uow, user_name, access_key_id)
            uow.access_keys.update(replace(key, status=status))

    def delete(self, user_name: str | None, access_key_id: str) -> None:
        with self._ctx.store.transaction() as uow:
            uow.access_keys.remove(_require_key(uow, user_name, access_key_id).access_key_id)

    def record_use(self, access_key_id: str, service: str, region: str) -> None:
        """Remember when, for which service and in which region a key was last used."""
        with self._ctx.store.transaction() as uow:
            key = uow.access_keys.get(access_key_id)
            if key is None:
                raise NotFound(f"The Access Key with id `{access_key_id}` cannot be found")
            uow.access_keys.update(
                replace(
                    key,
                    last_used_at=self._ctx.clock.now(),
                    last_used_service=service,
                    last_used_region=region,
                )
            )

    def last_used(self, access_key_id: str) -> tuple[str | None, AccessKey]:
        """IAM `GetAccessKeyLastUsed`: the owner's user name (None for root) and the key."""
        with self._ctx.store.transaction() as uow:
            key = uow.access_keys.get(access_key_id)
            if key is None:
                raise NotFound(f"The Access Key with id `{access_key_id}` cannot be found")
            owner = uow.users.get(key.user_id) if key.user_id is not None else None
            return (owner.name if owner is not None else None), key

    def authenticate(self, access_key_id: str) -> AuthenticatedKey | None:
        """The active key and its secret, or None when unknown, inactive or orphaned."""
        with self._ctx.store.transaction() as uow:
            key = uow.access_keys.get(access_key_id)
            if key is None or key.status != "Active":
                return None
            user = uow.users.get(key.user_id) if key.user_id is not None else None
            if key.user_id is not None and user is None:
                return None
            if key.user_id is None and uow.account.get() is None:
                return None
        secret = self._ctx.sealer.open(
            key.secret_sealed, context=access_key_context(key.access_key_id)
        )
        return AuthenticatedKey(key, user, secret)


def _owner(uow: UnitOfWork, user_name: str | None) -> tuple[str | None, str | None]:
    """(user id, user name) of a key owner; (None, None) for the root account."""
    if user_name is None:
        return None, None
    user = require_user(uow, user_name)
    return user.user_id, user.name


def _require_key(uow: UnitOfWork, user_name: str | None, access_key_id: str) -> AccessKey:
    owner_id = _owner(uow, user_name)[0]
    key = uow.access_keys.get(access_key_id)
    if key is None or key.user_id != owner_id:
        raise NotFound(f"The Access Key with id `{access_key_id}` cannot be found")
    return key
