"""STS session rules shared by every AssumeRole* path: durations, session policies,
and the AWS SAML attributes (contract §2 "Durations", §3.1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.directory.service import Directory
from bridge.errors import ClientFault, InvalidInput, MalformedPolicy, NotFound
from bridge.policy import PolicyError, parse_policy
from bridge.storage.interfaces import Tag
from bridge.verify.identity import VerifiedIdentity

SAML_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/"
MIN_DURATION = 900
DEFAULT_DURATION = 3600
PACKED_POLICY_LIMIT = 2048  # Policy plus PolicyArns, plaintext characters
MAX_POLICY_ARNS = 10
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


class PackedPolicyTooLarge(ClientFault):
    """The session policies exceed what a session token may carry (STS `PackedPolicyTooLarge`)."""


@dataclass(frozen=True)
class SessionOptions:
    """What the caller asked for, as the STS request parameters say it."""

    role_arn: str
    session_name: str | None = None
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    source_ip: str | None = None


@dataclass(frozen=True)
class FederatedAttributes:
    role_pairs: frozenset[tuple[str, str]]  # (role ARN, provider ARN)
    session_name: str | None
    session_duration: int | None
    tags: tuple[Tag, ...]
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None


def check_duration(
    requested: int | None, maximum: int, *, cap: int | None = None, not_after: int | None = None
) -> int:
    """900 s up to the role's MaxSessionDuration (default 3600), shortened by the SAML
    SessionDuration attribute and by the assertion's SessionNotOnOrAfter."""
    duration = DEFAULT_DURATION if requested is None else requested
    if requested is not None and not MIN_DURATION <= requested <= maximum:
        raise InvalidInput(
            "DurationSeconds",
            f"`{requested}` must be between {MIN_DURATION} and the role's "
            f"MaxSessionDuration {maximum}",
        )
    duration = min(duration, maximum)
    if cap is not None:
        duration = min(duration, cap)
    if not_after is not None:
        if not_after < MIN_DURATION:
            raise InvalidInput(
                "SessionNotOnOrAfter", "the identity provider's session ends in under 15 minutes"
            )
        duration = min(duration, not_after)
    return duration


def resolve_session_policies(
    directory: Directory, options: SessionOptions
) -> tuple[tuple[tuple[str, str], ...], int]:
    """The session policies as (id, document) pairs, and the packed size percentage."""
    policies: list[tuple[str, str]] = []
    if options.policy is not None:
        _check_session_policy(options.policy, "Policy")
        policies.append(("session-policy", options.policy))
    if len(options.policy_arns) > MAX_POLICY_ARNS:
        raise InvalidInput(
            "PolicyArns", f"at most {MAX_POLICY_ARNS} policy ARNs, got {len(options.policy_arns)}"
        )
    for arn in options.policy_arns:
        policies.append((arn, _managed_document(directory, arn)))
    size = len(options.policy or "") + sum(len(arn) for arn in options.policy_arns)
    if size > PACKED_POLICY_LIMIT:
        raise PackedPolicyTooLarge(
            f"the session policies take {size} characters; at most {PACKED_POLICY_LIMIT} fit"
        )
    return tuple(policies), (size * 100) // PACKED_POLICY_LIMIT


def _check_session_policy(document: str, field: str) -> None:
    try:
        parse_policy(document, strict=True, kind="identity")
    except PolicyError as exc:
        raise MalformedPolicy(exc.message, f"{field}.{exc.path}" if exc.path else field) from None


def _managed_document(directory: Directory, arn: str) -> str:
    try:
        return directory.policies.default_document(arn)
    except NotFound:
        raise InvalidInput("PolicyArns", f"the managed policy `{arn}` does not exist") from None


def federated_attributes(identity: VerifiedIdentity) -> FederatedAttributes:
    """The AWS SAML attributes of an assertion (names are case-sensitive)."""
    return FederatedAttributes(
        role_pairs=frozenset(_role_pairs(identity.attribute(SAML_ATTRIBUTE + "Role"))),
        session_name=_session_name(identity.attribute(SAML_ATTRIBUTE + "RoleSessionName")),
        session_duration=_session_duration(identity.attribute(SAML_ATTRIBUTE + "SessionDuration")),
        tags=_principal_tags(identity),
        transitive_tag_keys=identity.attribute(SAML_ATTRIBUTE + "TransitiveTagKeys"),
        source_identity=_single(identity.attribute(SAML_ATTRIBUTE + "SourceIdentity")),
    )


def _role_pairs(values: Sequence[str]) -> list[tuple[str, str]]:
    """`role-arn,provider-arn` in either order, as IdPs write both."""
    pairs = []
    for value in values:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            continue
        first, second = parts
        role, provider = (first, second) if ":role/" in first else (second, first)
        if ":role/" in role and ":saml-provider/" in provider:
            pairs.append((role, provider))
    return pairs


def _session_name(values: Sequence[str]) -> str | None:
    name = _single(values)
    if name is None:
        return None
    if not SESSION_NAME.fullmatch(name):
        raise InvalidInput("RoleSessionName", f"`{name}` must be 2 to 64 characters of [\\w+=,.@-]")
    return name


def _session_duration(values: Sequence[str]) -> int | None:
    text = _single(values)
    if text is None:
        return None
    if not text.isdigit() or not MIN_DURATION <= int(text) <= 43200:
        raise InvalidInput("SessionDuration", f"`{text}` must be a number from 900 to 43200")
    return int(text)


def _principal_tags(identity: VerifiedIdentity) -> tuple[Tag, ...]:
    prefix = SAML_ATTRIBUTE + "PrincipalTag:"
    return tuple(
        Tag(name.removeprefix(prefix), values[0])
        for name, values in identity.attributes.items()
        if name.startswith(prefix) and values
    )


def _single(values: Sequence[str]) -> str | None:
    return values[0] if values else None
