"""`Directory`: the IAM service layer, one sub-service per area.

    directory = Directory(store, account_id="123456789012", sealer=sealer,
                          clock=SystemClock(), rng=SystemRandom(), hasher=HashingConfig())
    directory.users.create("alice")
    directory.keys.create("alice").secret_access_key

Every public operation of a sub-service runs inside one `store.transaction()`, so a
failing operation leaves the store as it was. `directory.cached` answers the reads of
the decision and federation paths from a per-process cache (`bridge.directory.cache`).
"""

from __future__ import annotations

from bridge.clock import Clock, Random
from bridge.directory.account import AccountService
from bridge.directory.attachments import Attachments
from bridge.directory.cache import DirectoryCache
from bridge.directory.cached import CachedReads
from bridge.directory.context import Context
from bridge.directory.effective import Effective, EffectivePolicies
from bridge.directory.groups import Groups
from bridge.directory.inline import InlinePolicies
from bridge.directory.keys import AccessKeys
from bridge.directory.login import LoginProfiles
from bridge.directory.mfa import MFADevices
from bridge.directory.oidc_providers import OIDCProviders
from bridge.directory.passwords import HashingConfig, PasswordHashing
from bridge.directory.policies import Policies
from bridge.directory.roles import Roles
from bridge.directory.saml_providers import SAMLProviders
from bridge.directory.sealing import Sealer
from bridge.directory.users import Users
from bridge.directory.validation import account_id as check_account_id
from bridge.storage.interfaces import Store


class Directory:
    """The IAM operations, grouped by area as attributes."""

    def __init__(
        self,
        store: Store,
        *,
        account_id: str,
        sealer: Sealer,
        clock: Clock,
        rng: Random,
        hasher: HashingConfig | PasswordHashing,
    ) -> None:
        check_account_id(account_id)
        passwords = hasher if isinstance(hasher, PasswordHashing) else PasswordHashing(hasher, rng)
        ctx = Context(store, account_id, sealer, clock, rng, passwords)
        self.account_id = account_id
        self.account = AccountService(ctx)
        self.users = Users(ctx)
        self.groups = Groups(ctx)
        self.roles = Roles(ctx)
        self.policies = Policies(ctx)
        self.attachments = Attachments(ctx)
        self.inline_policies = InlinePolicies(ctx)
        self.keys = AccessKeys(ctx)
        self.login_profiles = LoginProfiles(ctx)
        self.mfa = MFADevices(ctx)
        self.saml_providers = SAMLProviders(ctx)
        self.oidc_providers = OIDCProviders(ctx)
        self.cached = CachedReads(self, store, Effective(ctx), DirectoryCache(store, clock=clock))

    def policies_for_user(self, user_id: str) -> EffectivePolicies:
        """Identity policies (own and groups', inline and attached) and the boundary
        (cached: `bridge.directory.cache`)."""
        return self.cached.policies_for_user(user_id)

    def policies_for_role(self, role_id: str) -> EffectivePolicies:
        return self.cached.policies_for_role(role_id)
