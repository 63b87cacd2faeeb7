"""Who made a request, once authenticated: the facts the policy engine and audit need.

Long-term access keys give a `root` or `user` caller. Temporary credentials give an
`assumed-role`, `federated-user` or `user-session` (GetSessionToken) caller with the
session claims attached, identified as GetCallerIdentity reports it
(`sts_iam_contract.md` §2 "GetCallerIdentity by principal type", §5), and with the
restrictions STS puts on such credentials as data (`Restrictions`), which the edges
enforce (and `Authorizer.decide` enforces for IAM actions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bridge.credentials.tokens import SessionClaims
from bridge.directory import ids
from bridge.storage.interfaces import Tag

PrincipalKind = Literal["root", "user", "assumed-role", "federated-user", "user-session"]


@dataclass(frozen=True)
class Restrictions:
    """What temporary credentials may not call, whatever the policies say (contract §2).

    `iam`: whether IAM may be called at all; `sts_only`: when set, the only STS actions
    allowed; `sts_never`: STS actions refused.
    """

    iam: bool = True
    sts_only: frozenset[str] | None = None
    sts_never: frozenset[str] = frozenset()
    why: str = ""

    def refusal(self, service: str, action: str) -> str | None:
        """Why `service:action` is refused to these credentials, or None when it is not."""
        refused = (service == "iam" and not self.iam) or (
            service == "sts"
            and (
                action in self.sts_never
                or (self.sts_only is not None and action not in self.sts_only)
            )
        )
        return f"`{service}:{action}` is not available to {self.why}" if refused else None


UNRESTRICTED = Restrictions()
_ROLE_SESSION = Restrictions(
    sts_never=frozenset({"GetFederationToken", "GetSessionToken"}),
    why="role session credentials",
)
_FEDERATED = Restrictions(
    iam=False,
    sts_only=frozenset({"GetCallerIdentity"}),
    why="GetFederationToken credentials",
)
_USER_SESSION_STS = frozenset({"AssumeRole", "GetCallerIdentity"})


@dataclass(frozen=True)
class Caller:
    """An authenticated principal. `principal_id` is what GetCallerIdentity calls `UserId`:
    the user id, the account id for root, `AROA…:<session>` for a role session and
    `<account>:<name>` for a federated user."""

    kind: PrincipalKind
    arn: str
    account_id: str
    principal_id: str
    name: str | None
    access_key_id: str
    region: str
    service: str
    tags: tuple[Tag, ...] = field(default=())
    session: SessionClaims | None = field(default=None, repr=False)
    restrictions: Restrictions = UNRESTRICTED

    @property
    def is_root(self) -> bool:
        """The root account, with its long-term keys or a GetSessionToken session."""
        return self.kind == "root" or (self.session is not None and self.session.is_root_session)


def session_caller(claims: SessionClaims, *, region: str, service: str) -> Caller:
    """The caller of a request signed with temporary credentials."""
    arn, principal_id, name = _identity(claims)
    return Caller(
        kind=claims.kind,
        arn=arn,
        account_id=claims.account_id,
        principal_id=principal_id,
        name=name,
        access_key_id=claims.access_key_id,
        region=region,
        service=service,
        tags=principal_tags(claims),
        session=claims,
        restrictions=restrictions_for(claims),
    )


def _identity(claims: SessionClaims) -> tuple[str, str, str | None]:
    account = claims.account_id
    if claims.kind == "assumed-role":
        arn = f"arn:aws:sts::{account}:assumed-role/{claims.subject_name}/{claims.session_name}"
        return arn, f"{claims.subject_id}:{claims.session_name}", claims.session_name
    if claims.kind == "federated-user":
        arn = f"arn:aws:sts::{account}:federated-user/{claims.session_name}"
        return arn, f"{account}:{claims.session_name}", claims.session_name
    if claims.is_root_session:
        return ids.root_arn(account), account, None
    return claims.subject_arn, claims.subject_id, claims.subject_name


def principal_tags(claims: SessionClaims) -> tuple[Tag, ...]:
    """The role's tags overridden by session tags with the same key (case-insensitive)."""
    session_keys = {tag.key.lower() for tag in claims.session_tags}
    kept = tuple(tag for tag in claims.role_tags if tag.key.lower() not in session_keys)
    return kept + claims.session_tags


def restrictions_for(claims: SessionClaims) -> Restrictions:
    if claims.kind == "assumed-role":
        return _ROLE_SESSION
    if claims.kind == "federated-user":
        return _FEDERATED
    why = "GetSessionToken credentials" + ("" if claims.mfa_present else " without MFA")
    return Restrictions(iam=claims.mfa_present, sts_only=_USER_SESSION_STS, why=why)
