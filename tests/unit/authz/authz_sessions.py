"""Helpers of the session tests: a real directory and key ring over a memory store, sessions
issued through `bridge.credentials.issue`, requests signed by botocore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bridge.authz.sigv4 import SignedRequest
from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.issue import IssuedCredentials, SessionRequest, issue
from bridge.credentials.keys import KeyRing
from bridge.credentials.tokens import SessionKind
from bridge.directory import Directory, HashingConfig
from bridge.storage.interfaces import Role, Tag, User
from bridge.storage.memory import MemoryStore

ACCOUNT = "123456789012"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", **condition: object) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


TRUST = document(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
)


@dataclass
class World:
    """One bridge instance's parts, with the clock at the real time (botocore signs with it)."""

    clock: FixedClock = field(
        default_factory=lambda: FixedClock(datetime.now(UTC).replace(microsecond=0))
    )
    store: MemoryStore = field(init=False)
    key_ring: KeyRing = field(init=False)
    directory: Directory = field(init=False)

    def __post_init__(self) -> None:
        self.store = MemoryStore(clock=self.clock)
        self.key_ring = KeyRing(self.store, bytes(range(32)), clock=self.clock, rng=SystemRandom())
        for purpose in ("data", "token"):
            self.key_ring.ensure(purpose)
        self.directory = Directory(
            self.store,
            account_id=ACCOUNT,
            sealer=self.key_ring,
            clock=self.clock,
            rng=SystemRandom(),
            hasher=HashingConfig(time_cost=1, memory_cost_kib=8, parallelism=1),
        )

    def role(self, name: str, *policies: str, tags: tuple[Tag, ...] = ()) -> Role:
        role = self.directory.roles.create(name, TRUST, "/team/", tags=tags)
        for n, policy in enumerate(policies):
            self.directory.inline_policies.put("role", name, f"p{n}", policy)
        return role

    def user(self, name: str, *policies: str) -> User:
        user = self.directory.users.create(name)
        for n, policy in enumerate(policies):
            self.directory.inline_policies.put("user", name, f"p{n}", policy)
        return user

    def role_session(self, role: Role, session: str = "alice", **extra: Any) -> IssuedCredentials:
        arn = self.directory.roles.arn(role)
        return self.issue("assumed-role", role.role_id, role.name, arn, session, **extra)

    def user_session(self, user: User | None, kind: SessionKind, **extra: Any) -> IssuedCredentials:
        if user is None:
            return self.issue(kind, ACCOUNT, "", f"arn:aws:iam::{ACCOUNT}:root", "", **extra)
        arn = self.directory.users.arn(user)
        name = str(extra.pop("session_name", "" if kind == "user-session" else "contractor"))
        return self.issue(kind, user.user_id, user.name, arn, name, **extra)

    def issue(
        self,
        kind: SessionKind,
        subject_id: str,
        subject_name: str,
        subject_arn: str,
        session_name: str,
        **extra: Any,
    ) -> IssuedCredentials:
        request = SessionRequest(
            account_id=ACCOUNT,
            kind=kind,
            subject_id=subject_id,
            subject_name=subject_name,
            subject_arn=subject_arn,
            session_name=session_name,
            duration_seconds=extra.pop("duration_seconds", 3600),
            **extra,
        )
        return issue(request, clock=self.clock, rng=SystemRandom(), key_ring=self.key_ring)


def signed(
    key: str,
    secret: str,
    token: str | None,
    *,
    service: str = "sts",
    presigned: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> SignedRequest:
    """A request signed by botocore as an AWS SDK would, as the Flask edge hands it on."""
    credentials = Credentials(key, secret, token)
    if presigned:
        aws = AWSRequest(
            "GET", "http://localhost:5000/?Action=GetCallerIdentity&Version=2011-06-15"
        )
        SigV4QueryAuth(credentials, service, "eu-west-1").add_auth(aws)
    else:
        aws = AWSRequest(
            "POST", "http://localhost:5000/", data=BODY, headers={"Content-Type": FORM}
        )
        SigV4Auth(credentials, service, "eu-west-1").add_auth(aws)
    parts = urlsplit(aws.url)
    headers = {"Host": parts.netloc, **dict(aws.headers.items()), **(extra_headers or {})}
    body = aws.body if isinstance(aws.body, bytes) else b""
    return SignedRequest(aws.method, parts.path, parts.query, headers, body)
