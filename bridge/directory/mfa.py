"""Virtual MFA devices: RFC 6238 TOTP (30 s steps, 6 digits, HMAC-SHA-1, as authenticator apps).

The seed is shown once when the device is created and stored only sealed. A code is
accepted for the current step or one step either side (RFC 6238 section 5.2), and a
step at or before the last accepted one is refused, so a code works only once.
"""

from __future__ import annotations

import base64
import builtins
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import pyotp

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.directory.lookup import require_user
from bridge.directory.sealing import mfa_context
from bridge.errors import (
    AlreadyExists,
    DeleteConflict,
    InvalidAuthenticationCode,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from bridge.storage.interfaces import Account, MFADevice, Tag, UnitOfWork

STEP_SECONDS = 30
DIGITS = 6
SEED_BYTES = 20
MAX_DEVICES_PER_USER = 8
ROOT = "root"
ISSUER = "bridge"
_NAME = re.compile(r"[\w+=,.@-]{1,226}", re.ASCII)
_CODE = re.compile(r"\d{6}", re.ASCII)
Assignment = Literal["Assigned", "Unassigned", "Any"]


@dataclass(frozen=True)
class CreatedMFADevice:
    """IAM `CreateVirtualMFADevice`'s answer: the only time the seed is shown."""

    device: MFADevice
    seed_base32: str
    otpauth_uri: str

    def __repr__(self) -> str:
        return f"CreatedMFADevice(device={self.device!r}, seed=…)"


class MFADevices:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create_virtual(
        self, name: str, path: str = "/", *, tags: Sequence[Tag] = ()
    ) -> CreatedMFADevice:
        if _NAME.fullmatch(name) is None:
            raise InvalidInput(
                "virtual_mfa_device_name", f"`{name}` must be 1 to 226 of letters, digits, +=,.@_-"
            )
        validation.path(path)
        checked_tags = validation.tags(tags)
        serial = ids.entity_arn(self._ctx.account_id, "mfa", path, name)
        seed = base64.b32encode(self._ctx.rng.token_bytes(SEED_BYTES)).decode()
        with self._ctx.store.transaction() as uow:
            if uow.mfa_devices.get(serial) is not None:
                raise AlreadyExists("MFADevice entity at the same path and name already exists")
            device = MFADevice(
                serial_number=serial,
                name=name,
                path=path,
                seed_sealed=self._ctx.sealer.seal(seed.encode(), context=mfa_context(serial)),
                created_at=self._ctx.clock.now(),
                tags=checked_tags,
            )
            uow.mfa_devices.add(device)
        uri = _totp(seed).provisioning_uri(
            name=f"{name}@{self._ctx.account_id}", issuer_name=ISSUER
        )
        return CreatedMFADevice(device, seed, uri)

    def enable(self, user_name: str | None, serial: str, code1: str, code2: str) -> MFADevice:
        """IAM `EnableMFADevice`: two consecutive codes; `user_name` None is the root account."""
        _check_code("authentication_code1", code1)
        _check_code("authentication_code2", code2)
        with self._ctx.store.transaction() as uow:
            device = _require_device(uow, serial)
            if device.user_id is not None:
                raise AlreadyExists(f"MFA device `{serial}` is already in use")
            owner = self._owner_id(uow, user_name)
            if owner != ROOT and len(uow.mfa_devices.list(owner)) >= MAX_DEVICES_PER_USER:
                raise LimitExceeded(
                    f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}"
                )
            step = self._consecutive_step(device, code1, code2)
            enabled = replace(
                device, user_id=owner, enabled_at=self._ctx.clock.now(), last_counter=step + 1
            )
            uow.mfa_devices.update(enabled)
            if owner == ROOT:
                account = _require_account(uow)
                uow.account.put(replace(account, root_mfa_serial=serial))
            return enabled

    def verify(self, serial: str, code: str) -> None:
        """Accept a code once, for an enabled device; raise `InvalidAuthenticationCode` if not."""
        _check_code("authentication_code", code)
        with self._ctx.store.transaction() as uow:
            device = _require_device(uow, serial)
            if device.user_id is None:
                raise InvalidAuthenticationCode(f"MFA device `{serial}` is not enabled")
            totp = _totp(self._seed(device))
            now = self._current_step()
            for step in (now - 1, now, now + 1):
                if hmac.compare_digest(totp.generate_otp(step), code):
                    if device.last_counter is not None and step <= device.last_counter:
                        raise InvalidAuthenticationCode("the authentication code was used already")
                    uow.mfa_devices.update(replace(device, last_counter=step))
                    return
            raise InvalidAuthenticationCode("the authentication code is not valid")

    def deactivate(self, user_name: str | None, serial: str) -> None:
        """IAM `DeactivateMFADevice`: unassign; the device stays until deleted."""
        with self._ctx.store.transaction() as uow:
            owner = self._owner_id(uow, user_name)
            device = uow.mfa_devices.get(serial)
            if device is None or device.user_id != owner:
                raise NotFound(f"MFA device `{serial}` is not assigned to this user")
            uow.mfa_devices.update(
                replace(device, user_id=None, enabled_at=None, last_counter=None)
            )
            if owner == ROOT:
                account = _require_account(uow)
                uow.account.put(replace(account, root_mfa_serial=None))

    def delete(self, serial: str) -> None:
        """IAM `DeleteVirtualMFADevice`: refused while the device is assigned."""
        with self._ctx.store.transaction() as uow:
            device = _require_device(uow, serial)
            if device.user_id is not None:
                raise DeleteConflict("cannot delete entity, must deactivate MFA device first")
            uow.mfa_devices.remove(serial)

    def list(self, user_name: str | None = None) -> list[MFADevice]:
        """IAM `ListMFADevices`: the devices enabled for a user (None: the root account)."""
        with self._ctx.store.transaction() as uow:
            return uow.mfa_devices.list(self._owner_id(uow, user_name))

    def list_virtual(self, assignment: Assignment = "Any") -> builtins.list[MFADevice]:
        """IAM `ListVirtualMFADevices`, filtered by assignment status."""
        with self._ctx.store.transaction() as uow:
            devices = uow.mfa_devices.list()
        if assignment == "Any":
            return devices
        assigned = assignment == "Assigned"
        return [d for d in devices if (d.user_id is not None) == assigned]

    def _owner_id(self, uow: UnitOfWork, user_name: str | None) -> str:
        if user_name is None:
            _require_account(uow)
            return ROOT
        return require_user(uow, user_name).user_id

    def _seed(self, device: MFADevice) -> str:
        sealed = device.seed_sealed
        return self._ctx.sealer.open(sealed, context=mfa_context(device.serial_number)).decode()

    def _current_step(self) -> int:
        return int(self._ctx.clock.now().timestamp()) // STEP_SECONDS

    def _consecutive_step(self, device: MFADevice, code1: str, code2: str) -> int:
        """The step of `code1` (now or the one before), with `code2` for the step after it."""
        totp = _totp(self._seed(device))
        now = self._current_step()
        for step in (now - 1, now):
            first = hmac.compare_digest(totp.generate_otp(step), code1)
            second = hmac.compare_digest(totp.generate_otp(step + 1), code2)
            if first and second:
                return step
        raise InvalidAuthenticationCode("the authentication codes are not two consecutive codes")


def _totp(seed_base32: str) -> pyotp.TOTP:
    return pyotp.TOTP(seed_base32, digits=DIGITS, interval=STEP_SECONDS)


def _check_code(field: str, code: str) -> None:
    if _CODE.fullmatch(code) is None:
        raise InvalidInput(field, "must be exactly 6 digits")


def _require_device(uow: UnitOfWork, serial: str) -> MFADevice:
    device = uow.mfa_devices.get(serial)
    if device is None:
        raise NotFound(f"MFA device with serial number `{serial}` cannot be found")
    return device


def _require_account(uow: UnitOfWork) -> Account:
    account = uow.account.get()
    if account is None:
        raise NotFound("the account does not exist yet; run `bridge init`")
    return account
