"""Policy documents written through the directory are validated strictly (on write)."""

from __future__ import annotations

from bridge.errors import LimitExceeded, MalformedPolicy
from bridge.policy import PolicyError, parse_policy

MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
INLINE_AGGREGATE_SIZE = {"user": 2048, "group": 5120, "role": 10240}


def policy_size(document: str) -> int:
    """The size IAM counts: characters other than whitespace."""
    return sum(1 for ch in document if not ch.isspace())


def validate_identity(document: str, policy_id: str | None = None) -> None:
    """An identity policy (managed, inline or boundary), strictly parsed."""
    try:
        parse_policy(document, strict=True, kind="identity", policy_id=policy_id)
    except PolicyError as error:
        raise MalformedPolicy(error.message, error.path) from error


def validate_managed(document: str) -> None:
    """IAM quota `PolicySize`: 6144 characters without whitespace."""
    if policy_size(document) > MANAGED_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")
    validate_identity(document)


def validate_trust(document: str) -> None:
    """A role trust policy: at most 2048 characters without whitespace (`ACLSizePerRole`)."""
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")
    try:
        parse_policy(document, strict=True, kind="trust")
    except PolicyError as error:
        raise MalformedPolicy(error.message, error.path) from error
