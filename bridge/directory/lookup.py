"""Find entities by name or ARN inside a unit of work, with IAM's `NoSuchEntity` messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridge.directory import ids
from bridge.errors import InvalidInput, NotFound
from bridge.storage.interfaces import Group, ManagedPolicy, Role, UnitOfWork, User

PrincipalKind = Literal["user", "group", "role"]


@dataclass(frozen=True)
class Principal:
    """A user, group or role that policies attach to."""

    kind: PrincipalKind
    entity_id: str
    name: str
    path: str


def require_user(uow: UnitOfWork, name: str) -> User:
    user = uow.users.by_name(name)
    if user is None:
        raise NotFound(f"The user with name `{name}` cannot be found")
    return user


def require_group(uow: UnitOfWork, name: str) -> Group:
    group = uow.groups.by_name(name)
    if group is None:
        raise NotFound(f"The group with name `{name}` cannot be found")
    return group


def require_role(uow: UnitOfWork, name: str) -> Role:
    role = uow.roles.by_name(name)
    if role is None:
        raise NotFound(f"The role with name `{name}` cannot be found")
    return role


def require_principal(uow: UnitOfWork, kind: PrincipalKind, name: str) -> Principal:
    entity: User | Group | Role
    if kind == "user":
        entity = require_user(uow, name)
        return Principal(kind, entity.user_id, entity.name, entity.path)
    if kind == "group":
        entity = require_group(uow, name)
        return Principal(kind, entity.group_id, entity.name, entity.path)
    entity = require_role(uow, name)
    return Principal(kind, entity.role_id, entity.name, entity.path)


def policy_arn(account_id: str, policy: ManagedPolicy) -> str:
    return ids.entity_arn(account_id, "policy", policy.path, policy.name)


def find_policy(uow: UnitOfWork, account_id: str, arn: str) -> ManagedPolicy | None:
    """The customer managed policy `arn` names, or None (AWS managed policies do not exist here)."""
    parsed = ids.parse_arn(arn, "policy_arn")
    if parsed.kind != "policy":
        raise InvalidInput("policy_arn", f"`{arn}` is not a policy arn")
    if parsed.account_id != account_id:
        return None
    policy = uow.policies.by_name(parsed.name)
    if policy is None or policy.path != parsed.path or policy.name != parsed.name:
        return None
    return policy


def require_policy(uow: UnitOfWork, account_id: str, arn: str) -> ManagedPolicy:
    policy = find_policy(uow, account_id, arn)
    if policy is None:
        raise NotFound(f"Policy `{arn}` does not exist or is not attachable")
    return policy


def require_boundary(uow: UnitOfWork, account_id: str, arn: str) -> str:
    """A permissions boundary must be an existing customer managed policy."""
    if find_policy(uow, account_id, arn) is None:
        raise NotFound(f"Policy `{arn}` does not exist or is not attachable")
    return arn
