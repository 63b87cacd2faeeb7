"""Small parts of the federation path: what an identity asks for (`Grant`), and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.federate_mapping import RoleChoice
from bridge.mapping.engine import Candidate
from bridge.storage.interfaces import Role, Tag
from bridge.verify import oidc
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.identity import VerifiedIdentity


@dataclass(frozen=True)
class Grant:
    """What a verified identity asks for, before trust and duration are checked."""

    role: Role
    role_arn: str
    session_name: str
    tags: tuple[Tag, ...]
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None
    duration_cap: int | None  # SAML SessionDuration attribute


def assume_action(identity: VerifiedIdentity) -> str:
    if identity.protocol == "saml":
        return "sts:AssumeRoleWithSAML"
    return "sts:AssumeRoleWithWebIdentity"


def grant_of(role: Role, role_arn: str, candidate: Candidate | RoleChoice) -> Grant:
    tags = tuple(Tag(key, value) for key, value in candidate.tags)
    return Grant(role, role_arn, candidate.session_name, tags, (), candidate.source_identity, None)


def seconds_until(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else int((moment - now).total_seconds())


def unverified_issuer(token: str) -> str:
    """The `iss` claim, read before verification only to choose the provider record."""
    claims = oidc.decode_segment(token.strip(), 1, "payload")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidIdentityToken("the token has no `iss` claim naming its provider")
    return issuer
