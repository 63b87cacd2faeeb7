"""The one account of this deployment: root password, root MFA and the password policy."""

from __future__ import annotations

from dataclasses import replace

from bridge.directory import validation
from bridge.directory.context import Context
from bridge.directory.passwords import PasswordPolicy, check_password
from bridge.errors import AlreadyExists, AuthenticationFailed, NotFound
from bridge.storage.interfaces import Account, UnitOfWork


class AccountService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, root_password: str) -> Account:
        """`bridge init`: the account with its root password (checked by the default policy)."""
        validation.account_id(self._ctx.account_id)
        check_password(PasswordPolicy(), root_password)
        with self._ctx.store.transaction() as uow:
            if uow.account.get() is not None:
                raise AlreadyExists(f"account `{self._ctx.account_id}` exists already")
            account = Account(
                account_id=self._ctx.account_id,
                root_password_hash=self._ctx.passwords.hash(root_password),
                created_at=self._ctx.clock.now(),
            )
            uow.account.put(account)
            return account

    def get(self) -> Account:
        with self._ctx.store.transaction() as uow:
            return _require_account(uow)

    def set_root_password(self, password: str) -> None:
        with self._ctx.store.transaction() as uow:
            account = _require_account(uow)
            check_password(PasswordPolicy.from_json(account.password_policy), password)
            hashed = self._ctx.passwords.hash(password)
            uow.account.put(replace(account, root_password_hash=hashed))

    def verify_root(self, password: str) -> Account:
        """Check the root password; raise `AuthenticationFailed` when it does not match."""
        with self._ctx.store.transaction() as uow:
            account = _require_account(uow)
            if not self._ctx.passwords.verify(account.root_password_hash, password):
                raise AuthenticationFailed("invalid_credentials", "the password is incorrect")
            if self._ctx.passwords.needs_rehash(account.root_password_hash):
                hashed = self._ctx.passwords.hash(password)
                uow.account.put(replace(account, root_password_hash=hashed))
            return account

    def password_policy(self) -> PasswordPolicy:
        """IAM `GetAccountPasswordPolicy`; the default policy when none is set."""
        with self._ctx.store.transaction() as uow:
            return PasswordPolicy.from_json(_require_account(uow).password_policy)

    def update_password_policy(self, policy: PasswordPolicy) -> None:
        policy.validated()
        with self._ctx.store.transaction() as uow:
            account = _require_account(uow)
            uow.account.put(replace(account, password_policy=policy.to_json()))

    def delete_password_policy(self) -> None:
        with self._ctx.store.transaction() as uow:
            account = _require_account(uow)
            if account.password_policy is None:
                raise NotFound(
                    f"The Password Policy with domain name `{account.account_id}` cannot be found"
                )
            uow.account.put(replace(account, password_policy=None))


def _require_account(uow: UnitOfWork) -> Account:
    account = uow.account.get()
    if account is None:
        raise NotFound("the account does not exist yet; run `bridge init`")
    return account
