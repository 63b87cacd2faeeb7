"""The directory read cache: every kind of directory write changes what the decision path
reads at once in the writing process, and within the cache's second at another instance
sharing the database (SQLite, PostgreSQL); a memory store is one process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cache_support import directory_on, metadata, postgres_schema, shared_stores
from directory_support import ACCOUNT

from bridge.authz.decide import compile_policies
from bridge.clock import FixedClock
from bridge.directory import Directory, PasswordPolicy
from bridge.directory.effective import EffectivePolicies
from bridge.errors import NotFound
from bridge.policy import Request
from bridge.storage.interfaces import Store, Tag

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PASSWORD = "Correct-Horse-9-Battery"
LATER = "2031-01-01T00:00:00Z"


def allow(*actions: str) -> str:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass
class World:
    """`a` writes; `b` is another instance on the same database (the same store for memory)."""

    a: Directory
    b: Directory
    store_a: Store
    clock: FixedClock
    backend: str
    user_id: str
    role_id: str
    keys: tuple[str, str]
    managed: str
    fence: str
    saml: str
    oidc: str


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    with postgres_schema() as name:
        yield name


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock()
    schema = request.getfixturevalue("schema") if request.param == "postgres" else None
    with shared_stores(request.param, tmp_path, clock, schema) as stores:
        store_a = stores()
        a, b = directory_on(store_a, clock), directory_on(stores(), clock, seed=8)
        yield _populate(a, b, store_a, clock, request.param)


def _populate(a: Directory, b: Directory, store: Store, clock: FixedClock, backend: str) -> World:
    a.account.create(PASSWORD)
    user = a.users.create("alice")
    a.users.create("bob")
    a.inline_policies.put("user", "alice", "own", allow("items:Own"))
    a.groups.create("crew")
    a.inline_policies.put("group", "crew", "crew", allow("items:Crew"))
    a.groups.add_user("crew", "alice")
    a.groups.create("team")
    a.inline_policies.put("group", "team", "team", allow("items:Team"))
    managed = a.policies.create("managed", allow("items:Managed"))
    managed_arn = a.policies.arn(managed)
    a.policies.create_version(managed_arn, allow("items:Managed", "items:V2"))
    fence = a.policies.arn(a.policies.create("fence", allow("items:Team", "items:Crew")))
    role = a.roles.create("deploy", TRUST)
    a.inline_policies.put("role", "deploy", "own", allow("items:Role"))
    a.attachments.attach("role", "deploy", managed_arn)
    keys = (a.keys.create("alice").key.access_key_id, a.keys.create("alice").key.access_key_id)
    saml = a.saml_providers.create("corp", metadata()).arn
    oidc = a.oidc_providers.create("https://idp.example.com", client_ids=["bridge"]).arn
    return World(
        a, b, store, clock, backend, user.user_id, role.role_id, keys, managed_arn, fence, saml,
        oidc,
    )  # fmt: skip


def effect(policies: EffectivePolicies, action: str) -> str:
    return compile_policies(policies).evaluate(Request(action, "*")).effect


def user_may(action: str) -> Callable[[Directory, World], object]:
    return lambda d, w: effect(d.policies_for_user(w.user_id), action)


def role_may(action: str) -> Callable[[Directory, World], object]:
    return lambda d, w: effect(d.policies_for_role(w.role_id), action)


def key_of(index: int) -> Callable[[Directory, World], object]:
    def probe(d: Directory, w: World) -> object:
        found = d.cached.access_key(w.keys[index])
        return None if found is None else (found.key.status, found.user and found.user.tags)

    return probe


def found(read: Callable[[Directory, World], object]) -> Callable[[Directory, World], object]:
    def probe(d: Directory, w: World) -> object:
        try:
            return read(d, w)
        except NotFound:
            return "gone"

    return probe


def generation(d: Directory, w: World) -> object:
    """For writes nothing on the decision path reads: the counter itself."""
    return w.store_a.directory_generation()


Write = Callable[[Directory, World], object]


@dataclass(frozen=True)
class Case:
    write: Write
    probe: Callable[[Directory, World], object]
    cached: bool = True  # False: the probe reads nothing cached (so nothing to go stale)


CASES = [
    pytest.param(Case(lambda d, w: d.inline_policies.put("user", "alice", "more",
        allow("items:More")), user_may("items:More")), id="put-user-inline-policy"),
    pytest.param(Case(lambda d, w: d.inline_policies.delete("user", "alice", "own"),
        user_may("items:Own")), id="delete-user-inline-policy"),
    pytest.param(Case(lambda d, w: d.groups.add_user("team", "alice"),
        user_may("items:Team")), id="add-user-to-group"),
    pytest.param(Case(lambda d, w: d.groups.remove_user("crew", "alice"),
        user_may("items:Crew")), id="remove-user-from-group"),
    pytest.param(Case(lambda d, w: d.inline_policies.put("group", "crew", "more",
        allow("items:More")), user_may("items:More")), id="put-group-inline-policy"),
    pytest.param(Case(lambda d, w: d.attachments.attach("user", "alice", w.managed),
        user_may("items:Managed")), id="attach-user-policy"),
    pytest.param(Case(lambda d, w: d.attachments.detach("role", "deploy", w.managed),
        role_may("items:Managed")), id="detach-role-policy"),
    pytest.param(Case(lambda d, w: d.policies.set_default_version(w.managed, "v2"),
        role_may("items:V2")), id="set-default-policy-version"),
    pytest.param(Case(lambda d, w: d.policies.create_version(w.managed, allow("items:V3"),
        set_as_default=True), role_may("items:V3")), id="create-default-policy-version"),
    pytest.param(Case(lambda d, w: d.users.put_permissions_boundary("alice", w.fence),
        user_may("items:Own")), id="put-user-boundary"),
    pytest.param(Case(lambda d, w: d.roles.put_permissions_boundary("deploy", w.fence),
        role_may("items:Role")), id="put-role-boundary"),
    pytest.param(Case(lambda d, w: d.inline_policies.put("role", "deploy", "more",
        allow("items:More")), role_may("items:More")), id="put-role-inline-policy"),
    pytest.param(Case(lambda d, w: d.keys.update_status("alice", w.keys[0], "Inactive"),
        key_of(0)), id="deactivate-access-key"),
    pytest.param(Case(lambda d, w: d.keys.delete("alice", w.keys[1]), key_of(1)),
        id="delete-access-key"),
    pytest.param(Case(lambda d, w: d.users.tag("alice", [Tag("team", "blue")]), key_of(0)),
        id="tag-user"),
    pytest.param(Case(lambda d, w: d.users.delete("bob"),
        found(lambda d, w: d.cached.user_named("bob").name)), id="delete-user"),
    pytest.param(Case(lambda d, w: d.users.update("bob", new_path="/ops/"),
        found(lambda d, w: d.cached.user_named("bob").path)), id="update-user"),
    pytest.param(Case(lambda d, w: d.roles.tag("deploy", [Tag("env", "prod")]),
        lambda d, w: d.cached.role_named("deploy").tags), id="tag-role"),
    pytest.param(Case(lambda d, w: d.roles.update("deploy", max_session_duration=7200),
        lambda d, w: d.cached.role(w.role_id).max_session_duration), id="update-role"),
    pytest.param(Case(lambda d, w: d.roles.update_trust_policy("deploy", TRUST.replace(
        "root", "user/alice")), lambda d, w: d.cached.role(w.role_id).trust_policy),
        id="update-role-trust-policy"),
    pytest.param(Case(lambda d, w: d.saml_providers.update(w.saml, metadata(LATER)),
        lambda d, w: d.cached.saml_provider(w.saml).valid_until), id="update-saml-provider"),
    pytest.param(Case(lambda d, w: d.saml_providers.delete(w.saml),
        found(lambda d, w: d.cached.saml_provider(w.saml).arn)), id="delete-saml-provider"),
    pytest.param(Case(lambda d, w: d.oidc_providers.add_client_id(w.oidc, "other"),
        lambda d, w: d.cached.oidc_provider(w.oidc).client_ids), id="add-oidc-client-id"),
    pytest.param(Case(lambda d, w: d.oidc_providers.update_thumbprints(w.oidc, ["a" * 40]),
        lambda d, w: d.cached.oidc_provider(w.oidc).thumbprints), id="update-oidc-thumbprints"),
    pytest.param(Case(lambda d, w: d.users.create("carol"),
        found(lambda d, w: d.cached.user_named("carol").name), cached=False), id="create-user"),
    pytest.param(Case(lambda d, w: d.login_profiles.create("alice", PASSWORD), generation,
        cached=False), id="create-login-profile"),
    pytest.param(Case(lambda d, w: d.mfa.create_virtual("phone"), generation, cached=False),
        id="create-mfa-device"),
    pytest.param(Case(lambda d, w: d.account.update_password_policy(PasswordPolicy(
        minimum_length=12)), generation, cached=False), id="update-password-policy"),
    pytest.param(Case(lambda d, w: d.account.set_root_password(PASSWORD + "!"), generation,
        cached=False), id="set-root-password"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_write_is_read_here_at_once_and_elsewhere_within_a_second(
    world: World, case: Case
) -> None:
    here, there = world.a, world.b
    before = (case.probe(here, world), case.probe(there, world))
    counted = world.store_a.directory_generation()
    case.write(here, world)
    after_here, after_there = case.probe(here, world), case.probe(there, world)
    world.clock.advance(1)
    assert before[0] == before[1] != after_here
    assert case.probe(there, world) == after_here
    assert world.store_a.directory_generation() != counted
    separate = world.backend != "memory" and case.cached
    assert after_there == (before[1] if separate else after_here)


@pytest.mark.parametrize(
    "use",
    [
        pytest.param(lambda d, w: d.keys.record_use(w.keys[0], "s3", "eu-west-1"), id="key-use"),
        pytest.param(lambda d, w: d.roles.record_use("deploy", "eu-west-1"), id="role-use"),
        pytest.param(lambda d, w: d.users.list(), id="a-read"),
    ],
)
def test_usage_records_and_reads_leave_the_cache_warm(world: World, use: Write) -> None:
    world.a.policies_for_user(world.user_id)
    counted, hits = world.store_a.directory_generation(), world.a.cached.cache.hits
    use(world.a, world)
    world.a.policies_for_user(world.user_id)
    assert (world.store_a.directory_generation(), world.a.cached.cache.hits) == (
        counted,
        hits + 1,
    )


def test_failures_are_not_cached(world: World) -> None:
    with pytest.raises(NotFound):
        world.b.cached.role_named("later")
    world.a.roles.create("later", TRUST)
    assert world.b.cached.role_named("later").name == "later"  # no second needed
