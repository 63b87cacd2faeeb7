"""Login profiles (console passwords) of IAM users, checked against the password policy."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bridge.directory.context import Context
from bridge.directory.lookup import require_user
from bridge.directory.passwords import PasswordPolicy, check_password
from bridge.errors import AlreadyExists, AuthenticationFailed, NotFound
from bridge.storage.interfaces import LoginProfile, UnitOfWork, User

_BAD_LOGIN = "the user name or password is incorrect"


@dataclass(frozen=True)
class LoginResult:
    """A successful password check; the login flow acts on the two flags."""

    user: User
    password_reset_required: bool
    password_expired: bool


class LoginProfiles:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self, user_name: str, password: str, *, password_reset_required: bool = False
    ) -> LoginProfile:
        with self._ctx.store.transaction() as uow:
            user = require_user(uow, user_name)
            if uow.login_profiles.get(user.user_id) is not None:
                raise AlreadyExists(f"Login Profile for user `{user_name}` already exists")
            check_password(_policy(uow), password)
            now = self._ctx.clock.now()
            profile = LoginProfile(
                user_id=user.user_id,
                password_hash=self._ctx.passwords.hash(password),
                created_at=now,
                password_reset_required=password_reset_required,
                password_changed_at=now,
            )
            uow.login_profiles.add(profile)
            return profile

    def get(self, user_name: str) -> LoginProfile:
        with self._ctx.store.transaction() as uow:
            return _require_profile(uow, user_name)

    def update(
        self,
        user_name: str,
        *,
        password: str | None = None,
        password_reset_required: bool | None = None,
    ) -> LoginProfile:
        """IAM `UpdateLoginProfile` (an administrator sets the password)."""
        with self._ctx.store.transaction() as uow:
            profile = _require_profile(uow, user_name)
            if password is not None:
                check_password(_policy(uow), password)
                profile = self._with_password(profile, password)
            if password_reset_required is not None:
                profile = replace(profile, password_reset_required=password_reset_required)
            uow.login_profiles.update(profile)
            return profile

    def change_password(self, user_name: str, old_password: str, new_password: str) -> None:
        """IAM `ChangePassword` (the user changes their own); clears the reset flag."""
        with self._ctx.store.transaction() as uow:
            profile = _require_profile(uow, user_name)
            if not self._ctx.passwords.verify(profile.password_hash, old_password):
                raise AuthenticationFailed("invalid_password", "the old password is incorrect")
            check_password(_policy(uow), new_password)
            changed = self._with_password(profile, new_password)
            uow.login_profiles.update(replace(changed, password_reset_required=False))

    def delete(self, user_name: str) -> None:
        with self._ctx.store.transaction() as uow:
            uow.login_profiles.remove(_require_profile(uow, user_name).user_id)

    def verify_login(self, user_name: str, password: str) -> LoginResult:
        """Check a console password; raise `AuthenticationFailed` alike for every failure."""
        with self._ctx.store.transaction() as uow:
            user = uow.users.by_name(user_name)
            profile = uow.login_profiles.get(user.user_id) if user is not None else None
            if user is None or profile is None:
                self._ctx.passwords.hash(password)  # spend the same time as a real check
                raise AuthenticationFailed("invalid_credentials", _BAD_LOGIN)
            if not self._ctx.passwords.verify(profile.password_hash, password):
                raise AuthenticationFailed("invalid_credentials", _BAD_LOGIN)
            policy = _policy(uow)
            expired = self._expired(policy, profile)
            if expired and policy.hard_expiry:
                raise AuthenticationFailed(
                    "password_expired", "the password has expired; ask an administrator to reset it"
                )
            if self._ctx.passwords.needs_rehash(profile.password_hash):
                uow.login_profiles.update(self._with_password(profile, password, keep_date=True))
            now = self._ctx.clock.now()
            uow.users.update(replace(user, password_last_used=now))
            return LoginResult(user, profile.password_reset_required, expired)

    def _with_password(
        self, profile: LoginProfile, password: str, *, keep_date: bool = False
    ) -> LoginProfile:
        changed = profile.password_changed_at if keep_date else self._ctx.clock.now()
        return replace(
            profile, password_hash=self._ctx.passwords.hash(password), password_changed_at=changed
        )

    def _expired(self, policy: PasswordPolicy, profile: LoginProfile) -> bool:
        if policy.max_password_age is None:
            return False
        changed: datetime = profile.password_changed_at or profile.created_at
        return self._ctx.clock.now() >= changed + timedelta(days=policy.max_password_age)


def _policy(uow: UnitOfWork) -> PasswordPolicy:
    account = uow.account.get()
    return PasswordPolicy.from_json(account.password_policy if account is not None else None)


def _require_profile(uow: UnitOfWork, user_name: str) -> LoginProfile:
    user = require_user(uow, user_name)
    profile = uow.login_profiles.get(user.user_id)
    if profile is None:
        raise NotFound(f"Login Profile for User `{user_name}` cannot be found")
    return profile
