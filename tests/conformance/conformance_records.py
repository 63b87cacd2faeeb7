"""Record builders shared by the conformance tests (plain functions, no fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.storage.interfaces import (
    Group,
    ManagedPolicy,
    NamedRepository,
    Role,
    Tag,
    UnitOfWork,
    User,
)

T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def user(entity_id: str, name: str, path: str = "/") -> User:
    return User(entity_id, name, path, T0, tags=(Tag("team", "blue"), Tag("cost", "42")))


def group(entity_id: str, name: str, path: str = "/") -> Group:
    return Group(entity_id, name, path, T0)


def role(entity_id: str, name: str, path: str = "/") -> Role:
    return Role(entity_id, name, path, '{"Version":"2012-10-17"}', T0, tags=(Tag("a", "1"),))


def policy(entity_id: str, name: str, path: str = "/") -> ManagedPolicy:
    return ManagedPolicy(entity_id, name, path, "v1", T0, at(1), description="d")


Builder = Callable[[str, str, str], Any]
Repo = Callable[[UnitOfWork], NamedRepository[Any]]

# kind → (id prefix, builder, repository, id field)
NAMED: dict[str, tuple[str, Builder, Repo, str]] = {
    "users": ("AIDA", user, lambda u: u.users, "user_id"),
    "groups": ("AGPA", group, lambda u: u.groups, "group_id"),
    "roles": ("AROA", role, lambda u: u.roles, "role_id"),
    "policies": ("ANPA", policy, lambda u: u.policies, "policy_id"),
}
