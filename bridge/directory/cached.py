"""The directory reads of the decision and federation paths, through `DirectoryCache`.

Each method answers as its uncached counterpart does (same records, same `NotFound`
messages), but from the per-process cache while the directory generation has not
moved: see `bridge.directory.cache` for how fresh that is (here at once, elsewhere
within about a second, five minutes at most through a database outage). The IAM API
keeps reading the store directly, so an IAM call always sees the latest state.
Failures (`NotFound`, a None answer) are not cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.directory.cache import DirectoryCache
from bridge.directory.effective import Effective, EffectivePolicies
from bridge.directory.keys import AuthenticatedKey
from bridge.errors import NotFound
from bridge.storage.interfaces import OIDCProvider, Role, SAMLProvider, Store, User

if TYPE_CHECKING:
    from bridge.directory.service import Directory


class CachedReads:
    def __init__(
        self, directory: Directory, store: Store, effective: Effective, cache: DirectoryCache
    ) -> None:
        self._directory = directory
        self._store = store
        self._effective = effective
        self.cache = cache

    def policies_for_user(self, user_id: str) -> EffectivePolicies:
        """`Effective.for_user`: the user's and its groups' policies and its boundary."""
        return self.cache.get(
            ("policies", "user", user_id), lambda: self._effective.for_user(user_id)
        )

    def policies_for_role(self, role_id: str) -> EffectivePolicies:
        return self.cache.get(
            ("policies", "role", role_id), lambda: self._effective.for_role(role_id)
        )

    def access_key(self, access_key_id: str) -> AuthenticatedKey | None:
        """`AccessKeys.authenticate`: an active key of an existing owner with its opened
        secret (kept in this process's memory only), or None."""
        return self.cache.get(
            ("access-key", access_key_id), lambda: self._directory.keys.authenticate(access_key_id)
        )

    def user(self, user_id: str) -> User:
        return self.cache.get(("user-id", user_id), lambda: self._require_user(user_id))

    def user_named(self, name: str) -> User:
        """`Users.get`: case-insensitive, as IAM names are."""
        return self.cache.get(("user", name.lower()), lambda: self._directory.users.get(name))

    def role(self, role_id: str) -> Role:
        return self.cache.get(("role-id", role_id), lambda: self._require_role(role_id))

    def role_named(self, name: str) -> Role:
        """`Roles.get`: case-insensitive, as IAM names are."""
        return self.cache.get(("role", name.lower()), lambda: self._directory.roles.get(name))

    def saml_provider(self, arn: str) -> SAMLProvider:
        """`SAMLProviders.get`."""
        return self.cache.get(("saml", arn), lambda: self._directory.saml_providers.get(arn))

    def oidc_provider(self, arn: str) -> OIDCProvider:
        """`OIDCProviders.get`."""
        return self.cache.get(("oidc", arn), lambda: self._directory.oidc_providers.get(arn))

    def _require_user(self, user_id: str) -> User:
        with self._store.transaction() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotFound(f"The user with id `{user_id}` cannot be found")
        return user

    def _require_role(self, role_id: str) -> Role:
        with self._store.transaction() as uow:
            role = uow.roles.get(role_id)
        if role is None:
            raise NotFound(f"The role with id `{role_id}` cannot be found")
        return role
