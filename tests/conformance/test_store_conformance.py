"""The same behaviour from every `Store`: memory, SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from conformance_records import NAMED, T0, at, group, policy, role, user

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.interfaces import (
    Account,
    InlinePolicy,
    PolicyVersion,
    Store,
)

KINDS = sorted(NAMED)


def _entity(kind: str, n: int, name: str, path: str = "/") -> Any:
    prefix, build, _repo, _field = NAMED[kind]
    return build(f"{prefix}{n:04d}", name, path)


def _ident(kind: str, entity: Any) -> str:
    return str(getattr(entity, NAMED[kind][3]))


def _add(store: Store, kind: str, *entities: Any) -> None:
    with store.transaction() as uow:
        for entity in entities:
            NAMED[kind][2](uow).add(entity)


# --- users, groups, roles, managed policies ------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_named_add_then_get_returns_an_equal_record(store: Store, kind: str) -> None:
    entity = _entity(kind, 1, "Alice")
    _add(store, kind, entity)
    with store.transaction() as uow:
        assert NAMED[kind][2](uow).get(_ident(kind, entity)) == entity
        assert NAMED[kind][2](uow).get("missing") is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("query", "found"),
    [("Alice", True), ("alice", True), ("ALICE", True), ("alic", False), ("Alice ", False)],
    ids=["same-case", "lower", "upper", "prefix", "trailing-space"],
)
def test_named_by_name_ignores_case_only(store: Store, kind: str, query: str, found: bool) -> None:
    entity = _entity(kind, 1, "Alice")
    _add(store, kind, entity)
    with store.transaction() as uow:
        assert NAMED[kind][2](uow).by_name(query) == (entity if found else None)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/", ["alice", "Bob", "bobby", "carol", "Zed"]),
        ("/eng/", ["bobby", "carol"]),
        ("/eng/ops/", ["carol"]),
        ("/ENG/", []),
        ("/sales/", []),
    ],
    ids=["root", "eng", "nested", "path-is-case-sensitive", "no-match"],
)
def test_named_list_filters_by_path_prefix_ordered_by_name(
    store: Store, kind: str, prefix: str, expected: list[str]
) -> None:
    names_paths = [("Zed", "/"), ("carol", "/eng/ops/"), ("Bob", "/"), ("alice", "/x/")]
    names_paths.append(("bobby", "/eng/"))
    _add(store, kind, *(_entity(kind, i, n, p) for i, (n, p) in enumerate(names_paths)))
    with store.transaction() as uow:
        assert [e.name for e in NAMED[kind][2](uow).list(prefix)] == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("second_id", "second_name"),
    [(1, "Other"), (2, "alice"), (2, "ALICE")],
    ids=["same-id", "same-name-other-case", "same-name-upper"],
)
def test_named_duplicates_are_refused(
    store: Store, kind: str, second_id: int, second_name: str
) -> None:
    _add(store, kind, _entity(kind, 1, "Alice"))
    with pytest.raises(AlreadyExists):
        _add(store, kind, _entity(kind, second_id, second_name))
    with store.transaction() as uow:
        assert [e.name for e in NAMED[kind][2](uow).list()] == ["Alice"]


@pytest.mark.parametrize("kind", KINDS)
def test_named_update_renames_and_keeps_the_id(store: Store, kind: str) -> None:
    entity = _entity(kind, 1, "Alice")
    _add(store, kind, entity)
    renamed = replace(entity, name="Alicia", path="/new/")
    with store.transaction() as uow:
        NAMED[kind][2](uow).update(renamed)
    with store.transaction() as uow:
        repo = NAMED[kind][2](uow)
        assert (repo.get(_ident(kind, entity)), repo.by_name("ALICIA")) == (renamed, renamed)
        assert repo.by_name("Alice") is None


@pytest.mark.parametrize("kind", KINDS)
def test_named_update_to_the_same_name_in_another_case_is_allowed(store: Store, kind: str) -> None:
    entity = _entity(kind, 1, "alice")
    _add(store, kind, entity)
    with store.transaction() as uow:
        NAMED[kind][2](uow).update(replace(entity, name="Alice"))
    with store.transaction() as uow:
        assert NAMED[kind][2](uow).by_name("alice") == replace(entity, name="Alice")


@pytest.mark.parametrize("kind", KINDS)
def test_named_update_to_a_taken_name_is_refused(store: Store, kind: str) -> None:
    first, second = _entity(kind, 1, "Alice"), _entity(kind, 2, "Bob")
    _add(store, kind, first, second)
    with pytest.raises(AlreadyExists), store.transaction() as uow:
        NAMED[kind][2](uow).update(replace(second, name="ALICE"))


@pytest.mark.parametrize("kind", KINDS)
def test_named_update_and_remove_of_a_missing_entity_raise_not_found(
    store: Store, kind: str
) -> None:
    with pytest.raises(NotFound), store.transaction() as uow:
        NAMED[kind][2](uow).update(_entity(kind, 9, "Ghost"))
    with pytest.raises(NotFound), store.transaction() as uow:
        NAMED[kind][2](uow).remove(_ident(kind, _entity(kind, 9, "Ghost")))


@pytest.mark.parametrize("kind", KINDS)
def test_named_remove_frees_the_id_and_the_name(store: Store, kind: str) -> None:
    entity = _entity(kind, 1, "Alice")
    _add(store, kind, entity)
    with store.transaction() as uow:
        NAMED[kind][2](uow).remove(_ident(kind, entity))
    with store.transaction() as uow:
        assert NAMED[kind][2](uow).get(_ident(kind, entity)) is None
    _add(store, kind, entity)


# --- memberships and attachments ------------------------------------------------------


def _people(store: Store) -> None:
    with store.transaction() as uow:
        for n in (1, 2, 3):
            uow.users.add(user(f"AIDA{n}", f"user{n}"))
            uow.groups.add(group(f"AGPA{n}", f"group{n}"))
            uow.roles.add(role(f"AROA{n}", f"role{n}"))
            uow.policies.add(policy(f"ANPA{n}", f"policy{n}"))


def test_memberships_list_both_directions_in_join_order(store: Store) -> None:
    _people(store)
    with store.transaction() as uow:
        for g, u in [
            ("AGPA3", "AIDA1"),
            ("AGPA1", "AIDA1"),
            ("AGPA1", "AIDA3"),
            ("AGPA1", "AIDA2"),
        ]:
            uow.memberships.add(g, u)
    with store.transaction() as uow:
        assert uow.memberships.groups_of("AIDA1") == ["AGPA3", "AGPA1"]
        assert uow.memberships.users_of("AGPA1") == ["AIDA1", "AIDA3", "AIDA2"]
        uow.memberships.remove("AGPA1", "AIDA3")
    with store.transaction() as uow:
        assert (uow.memberships.users_of("AGPA1"), uow.memberships.groups_of("AIDA3")) == (
            ["AIDA1", "AIDA2"],
            [],
        )


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        (lambda uow: uow.memberships.add("AGPA1", "AIDA1"), AlreadyExists),
        (lambda uow: uow.memberships.remove("AGPA2", "AIDA1"), NotFound),
        (lambda uow: uow.memberships.add("AGPA9", "AIDA1"), NotFound),
        (lambda uow: uow.memberships.add("AGPA1", "AIDA9"), NotFound),
        (lambda uow: uow.attachments.attach("AROA1", "ANPA1"), AlreadyExists),
        (lambda uow: uow.attachments.detach("AROA1", "ANPA2"), NotFound),
        (lambda uow: uow.attachments.attach("AROA1", "ANPA9"), NotFound),
    ],
    ids=[
        "member-twice",
        "remove-non-member",
        "join-missing-group",
        "join-missing-user",
        "attach-twice",
        "detach-unattached",
        "attach-missing-policy",
    ],
)
def test_relation_faults(store: Store, operation: Any, error: type[Exception]) -> None:
    _people(store)
    with store.transaction() as uow:
        uow.memberships.add("AGPA1", "AIDA1")
        uow.attachments.attach("AROA1", "ANPA1")
    with pytest.raises(error), store.transaction() as uow:
        operation(uow)


def test_attachments_list_both_directions_in_attachment_order(store: Store) -> None:
    _people(store)
    with store.transaction() as uow:
        for principal, pol in [("AROA1", "ANPA3"), ("AROA1", "ANPA1"), ("AIDA2", "ANPA1")]:
            uow.attachments.attach(principal, pol)
        uow.attachments.attach("AGPA1", "ANPA1")
    with store.transaction() as uow:
        assert uow.attachments.policies_of("AROA1") == ["ANPA3", "ANPA1"]
        assert uow.attachments.principals_of("ANPA1") == ["AROA1", "AIDA2", "AGPA1"]
        uow.attachments.detach("AIDA2", "ANPA1")
    with store.transaction() as uow:
        assert uow.attachments.principals_of("ANPA1") == ["AROA1", "AGPA1"]


@pytest.mark.parametrize(
    ("remove", "memberships", "attachments"),
    [
        (lambda uow: uow.users.remove("AIDA1"), [], ["AROA1", "AGPA1"]),
        (lambda uow: uow.groups.remove("AGPA1"), [], ["AIDA1", "AROA1"]),
        (lambda uow: uow.roles.remove("AROA1"), ["AGPA1"], ["AIDA1", "AGPA1"]),
    ],
    ids=["user", "group", "role"],
)
def test_removing_a_principal_removes_its_relations(
    store: Store, remove: Any, memberships: list[str], attachments: list[str]
) -> None:
    _people(store)
    with store.transaction() as uow:
        uow.memberships.add("AGPA1", "AIDA1")
        for principal in ("AIDA1", "AROA1", "AGPA1"):
            uow.attachments.attach(principal, "ANPA1")
            uow.inline_policies.put(InlinePolicy(principal, "p", "{}"))
    with store.transaction() as uow:
        remove(uow)
    with store.transaction() as uow:
        assert uow.memberships.groups_of("AIDA1") == memberships
        assert uow.attachments.principals_of("ANPA1") == attachments
        assert sorted(p.principal_id for p in _inline_all(uow)) == sorted(attachments)


def _inline_all(uow: Any) -> list[InlinePolicy]:
    return [p for i in ("AIDA1", "AROA1", "AGPA1") for p in uow.inline_policies.list(i)]


def test_removing_a_policy_removes_its_versions_and_attachments(store: Store) -> None:
    _people(store)
    with store.transaction() as uow:
        uow.policy_versions.add(PolicyVersion("ANPA1", "v1", "{}", T0))
        uow.attachments.attach("AROA1", "ANPA1")
        uow.policies.remove("ANPA1")
    with store.transaction() as uow:
        assert (uow.policy_versions.list("ANPA1"), uow.attachments.policies_of("AROA1")) == (
            [],
            [],
        )


# --- policy versions and inline policies ------------------------------------------------


def test_policy_versions_list_in_creation_order(store: Store) -> None:
    _people(store)
    versions = [PolicyVersion("ANPA1", f"v{n}", f'{{"n":{n}}}', at(n // 3)) for n in (10, 2, 1)]
    with store.transaction() as uow:
        for version in versions:
            uow.policy_versions.add(version)
        uow.policy_versions.add(PolicyVersion("ANPA2", "v1", "{}", T0))
    with store.transaction() as uow:
        assert [v.version_id for v in uow.policy_versions.list("ANPA1")] == ["v1", "v2", "v10"]
        assert uow.policy_versions.get("ANPA1", "v2") == versions[1]
        assert uow.policy_versions.get("ANPA1", "v3") is None


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        (
            lambda uow: uow.policy_versions.add(PolicyVersion("ANPA1", "v1", "{}", T0)),
            AlreadyExists,
        ),
        (lambda uow: uow.policy_versions.remove("ANPA1", "v7"), NotFound),
        (lambda uow: uow.policy_versions.add(PolicyVersion("ANPA9", "v1", "{}", T0)), NotFound),
    ],
    ids=["duplicate", "remove-missing", "unknown-policy"],
)
def test_policy_version_faults(store: Store, operation: Any, error: type[Exception]) -> None:
    _people(store)
    with store.transaction() as uow:
        uow.policy_versions.add(PolicyVersion("ANPA1", "v1", "{}", T0))
    with pytest.raises(error), store.transaction() as uow:
        operation(uow)


def test_policy_version_remove(store: Store) -> None:
    _people(store)
    with store.transaction() as uow:
        uow.policy_versions.add(PolicyVersion("ANPA1", "v1", "{}", T0))
        uow.policy_versions.add(PolicyVersion("ANPA1", "v2", "{}", at(1)))
    with store.transaction() as uow:
        uow.policy_versions.remove("ANPA1", "v1")
    with store.transaction() as uow:
        assert [v.version_id for v in uow.policy_versions.list("ANPA1")] == ["v2"]


def test_inline_put_replaces_and_lists_by_name(store: Store) -> None:
    with store.transaction() as uow:
        for name in ("zeta", "Alpha", "beta"):
            uow.inline_policies.put(InlinePolicy("AROA1", name, "{}"))
        uow.inline_policies.put(InlinePolicy("AROA2", "other", "{}"))
    with store.transaction() as uow:
        uow.inline_policies.put(InlinePolicy("AROA1", "beta", '{"v":2}'))
    with store.transaction() as uow:
        assert [p.name for p in uow.inline_policies.list("AROA1")] == ["Alpha", "beta", "zeta"]
        assert uow.inline_policies.get("AROA1", "beta") == InlinePolicy("AROA1", "beta", '{"v":2}')
        assert uow.inline_policies.get("AROA2", "beta") is None
        uow.inline_policies.remove("AROA1", "beta")
    with store.transaction() as uow:
        assert [p.name for p in uow.inline_policies.list("AROA1")] == ["Alpha", "zeta"]
    with pytest.raises(NotFound), store.transaction() as uow:
        uow.inline_policies.remove("AROA1", "beta")


# --- account ------------------------------------------------------------------------


def test_account_put_creates_then_replaces(store: Store) -> None:
    first = Account("111122223333", "hash-1", T0)
    second = Account("444455556666", "hash-2", at(5), "arn:mfa", '{"MinimumPasswordLength":14}')
    with store.transaction() as uow:
        assert uow.account.get() is None
        uow.account.put(first)
    with store.transaction() as uow:
        assert uow.account.get() == first
        uow.account.put(second)
    with store.transaction() as uow:
        assert uow.account.get() == second
