"""Who made a request, once authenticated: the facts the policy engine and audit need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bridge.storage.interfaces import Tag

PrincipalKind = Literal["root", "user"]


@dataclass(frozen=True)
class Caller:
    """An authenticated principal. `principal_id` is the user id, or the account id for root."""

    kind: PrincipalKind
    arn: str
    account_id: str
    principal_id: str
    name: str | None
    access_key_id: str
    region: str
    service: str
    tags: tuple[Tag, ...] = field(default=())

    @property
    def is_root(self) -> bool:
        return self.kind == "root"
