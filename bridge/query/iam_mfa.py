"""IAM virtual MFA devices: create, enable, deactivate, delete and list.

Actions that take an optional `UserName` act on the caller when it is left out; for
the root account that means its own MFA devices.
"""

from __future__ import annotations

import base64
import importlib
import io
from typing import Any

from bridge.directory import ids
from bridge.query.iam import (
    IAM,
    PAGING,
    TAGS,
    name_field,
    paginate,
    path_field,
    tags_shape,
    user_shape,
)
from bridge.query.iam_credentials import EXISTING_USER, owner_arn, target
from bridge.query.iam_providers import aws_field_names
from bridge.query.params import NAME_PATTERN, Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.storage.interfaces import MFADevice

SERIAL = Field("SerialNumber", required=True, min_len=9, max_len=256, pattern=r"[\w+=/:,.@-]+")
MFA_NAMES = {"virtual_mfa_device_name": "VirtualMFADeviceName", "path": "Path", "tags": "Tags"}


def code_field(name: str) -> Field:
    return Field(name, required=True, min_len=6, max_len=6, pattern=r"[\d]+")


def mfa_arn(ctx: ActionContext, p: Params) -> str:
    """The device's ARN: its serial number, or for a create the one it will have."""
    serial = p.get("SerialNumber")
    if serial:
        return str(serial)
    return ids.entity_arn(ctx.account_id, "mfa", p["Path"], p["VirtualMFADeviceName"])


def all_mfa_devices(ctx: ActionContext, _p: Params) -> str:
    return ids.entity_arn(ctx.account_id, "mfa", "/", "*")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def qr_code_png(uri: str) -> bytes | None:
    """The otpauth uri as a QR code PNG when `segno` is installed; None otherwise."""
    try:
        segno = importlib.import_module("segno")
    except ModuleNotFoundError:
        return None
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


@IAM.action(
    "CreateVirtualMFADevice",
    path_field(),
    Field("VirtualMFADeviceName", required=True, min_len=1, pattern=NAME_PATTERN),
    TAGS,
    resource=mfa_arn,
)
def create_virtual_mfa_device(ctx: ActionContext, p: Params) -> Result:
    """Seed and QR code are blobs, base64 in XML; this is the only time they are shown."""
    with aws_field_names(MFA_NAMES):
        created = ctx.directory.mfa.create_virtual(
            p["VirtualMFADeviceName"], p["Path"], tags=p["Tags"]
        )
    png = qr_code_png(created.otpauth_uri)
    return {
        "VirtualMFADevice": {
            "SerialNumber": created.device.serial_number,
            "Base32StringSeed": _b64(created.seed_base32.encode("ascii")),
            "QRCodePNG": _b64(png) if png is not None else None,
            "Tags": tags_shape(created.device.tags) or None,
        }
    }


@IAM.action(
    "EnableMFADevice",
    name_field("UserName", max_len=128),
    SERIAL,
    code_field("AuthenticationCode1"),
    code_field("AuthenticationCode2"),
    resource=owner_arn,
    has_output=False,
)
def enable_mfa_device(ctx: ActionContext, p: Params) -> None:
    ctx.directory.mfa.enable(
        p["UserName"], p["SerialNumber"], p["AuthenticationCode1"], p["AuthenticationCode2"]
    )


@IAM.action("DeactivateMFADevice", EXISTING_USER, SERIAL, resource=owner_arn, has_output=False)
def deactivate_mfa_device(ctx: ActionContext, p: Params) -> None:
    ctx.directory.mfa.deactivate(target(ctx, p), p["SerialNumber"])


@IAM.action("DeleteVirtualMFADevice", SERIAL, resource=mfa_arn, has_output=False)
def delete_virtual_mfa_device(ctx: ActionContext, p: Params) -> None:
    ctx.directory.mfa.delete(p["SerialNumber"])


@IAM.action("ListMFADevices", EXISTING_USER, *PAGING, resource=owner_arn)
def list_mfa_devices(ctx: ActionContext, p: Params) -> Result:
    """The devices enabled for the user; for the root account `UserName` is the account id."""
    name = target(ctx, p)
    shown = ctx.directory.users.get(name).name if name is not None else ctx.account_id
    page, meta = paginate(ctx.directory.mfa.list(name), p)
    devices = [
        {"UserName": shown, "SerialNumber": d.serial_number, "EnableDate": d.enabled_at}
        for d in page
    ]
    return {"MFADevices": devices, **meta}


@IAM.action(
    "ListVirtualMFADevices",
    Field("AssignmentStatus", choices=("Assigned", "Unassigned", "Any"), default="Any"),
    *PAGING,
    resource=all_mfa_devices,
)
def list_virtual_mfa_devices(ctx: ActionContext, p: Params) -> Result:
    page, meta = paginate(ctx.directory.mfa.list_virtual(p["AssignmentStatus"]), p)
    users = {u.user_id: u for u in ctx.directory.users.list()} if page else {}
    return {"VirtualMFADevices": [_virtual_shape(ctx, d, users) for d in page], **meta}


def _virtual_shape(ctx: ActionContext, device: MFADevice, users: dict[str, Any]) -> dict[str, Any]:
    owner: dict[str, Any] | None = None
    if device.user_id in users:
        owner = user_shape(ctx, users[device.user_id], full=False)
    elif device.user_id is not None:
        account = ctx.directory.account.get()
        owner = {"UserId": ctx.account_id, "Arn": ids.root_arn(ctx.account_id),
                 "CreateDate": account.created_at}  # fmt: skip
    return {
        "SerialNumber": device.serial_number,
        "User": owner,
        "EnableDate": device.enabled_at,
        "Tags": tags_shape(device.tags) or None,
    }
