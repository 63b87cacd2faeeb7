"""Keys, login profiles, MFA devices, providers, the key ring, and how values round-trip,
the same on every `Store` (see conftest)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from conformance_records import T0, at, user

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.interfaces import (
    AccessKey,
    InlinePolicy,
    KeyRecord,
    LoginProfile,
    MFADevice,
    OIDCProvider,
    SAMLProvider,
    Store,
    Tag,
)

ALL_BYTES = bytes(range(256))


def _users(store: Store, *ids: str) -> None:
    with store.transaction() as uow:
        for n, user_id in enumerate(ids):
            uow.users.add(user(user_id, f"user{n}"))


def _key(key_id: str, user_id: str | None, seconds: float) -> AccessKey:
    return AccessKey(key_id, user_id, ALL_BYTES + key_id.encode(), "Active", at(seconds))


# --- access keys ----------------------------------------------------------------------


def test_access_keys_list_for_a_user_or_the_root_in_creation_order(store: Store) -> None:
    _users(store, "AIDA1", "AIDA2")
    keys = [
        _key("AKIAB", "AIDA1", 5),
        _key("AKIAA", "AIDA1", 1),
        _key("AKIAR", None, 3),
        _key("AKIAC", "AIDA2", 2),
    ]
    keys.append(_key("AKIAD", "AIDA1", 5))  # same time as AKIAB: insertion order
    with store.transaction() as uow:
        for key in keys:
            uow.access_keys.add(key)
    with store.transaction() as uow:
        listed = {who: uow.access_keys.list_for(who) for who in ("AIDA1", "AIDA2", None)}
    assert {who: [k.access_key_id for k in found] for who, found in listed.items()} == {
        "AIDA1": ["AKIAA", "AKIAB", "AKIAD"],
        "AIDA2": ["AKIAC"],
        None: ["AKIAR"],
    }
    assert listed["AIDA1"][0] == keys[1]


def test_access_key_update_and_remove(store: Store) -> None:
    _users(store, "AIDA1")
    key = _key("AKIA1", "AIDA1", 0)
    used = replace(key, status="Inactive", last_used_at=at(9), last_used_service="sts")
    with store.transaction() as uow:
        uow.access_keys.add(key)
    with store.transaction() as uow:
        uow.access_keys.update(replace(used, last_used_region="eu-west-1"))
    with store.transaction() as uow:
        assert uow.access_keys.get("AKIA1") == replace(used, last_used_region="eu-west-1")
        uow.access_keys.remove("AKIA1")
    with store.transaction() as uow:
        assert (uow.access_keys.get("AKIA1"), uow.access_keys.list_for("AIDA1")) == (None, [])


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        (lambda uow: uow.access_keys.add(_key("AKIA1", "AIDA1", 1)), AlreadyExists),
        (lambda uow: uow.access_keys.add(_key("AKIA2", "AIDA9", 1)), NotFound),
        (lambda uow: uow.access_keys.update(_key("AKIA9", "AIDA1", 1)), NotFound),
        (lambda uow: uow.access_keys.remove("AKIA9"), NotFound),
        (lambda uow: uow.login_profiles.add(LoginProfile("AIDA1", "h", T0)), AlreadyExists),
        (lambda uow: uow.login_profiles.add(LoginProfile("AIDA9", "h", T0)), NotFound),
        (lambda uow: uow.login_profiles.update(LoginProfile("AIDA2", "h", T0)), NotFound),
        (lambda uow: uow.login_profiles.remove("AIDA2"), NotFound),
        (lambda uow: uow.mfa_devices.add(_device("arn:mfa/a", None)), AlreadyExists),
        (lambda uow: uow.mfa_devices.update(_device("arn:mfa/z", None)), NotFound),
        (lambda uow: uow.mfa_devices.remove("arn:mfa/z"), NotFound),
        (lambda uow: uow.saml_providers.add(_saml("arn:saml/a")), AlreadyExists),
        (lambda uow: uow.saml_providers.update(_saml("arn:saml/z")), NotFound),
        (lambda uow: uow.saml_providers.remove("arn:saml/z"), NotFound),
        (lambda uow: uow.oidc_providers.add(_oidc("arn:oidc/a")), AlreadyExists),
        (lambda uow: uow.oidc_providers.update(_oidc("arn:oidc/z")), NotFound),
        (lambda uow: uow.oidc_providers.remove("arn:oidc/z"), NotFound),
        (lambda uow: uow.key_ring.add(KeyRecord("k1", "token", b"x", T0)), AlreadyExists),
        (lambda uow: uow.key_ring.update(KeyRecord("k9", "data", b"x", T0)), NotFound),
    ],
    ids=[
        "key-twice",
        "key-of-missing-user",
        "update-missing-key",
        "remove-missing-key",
        "profile-twice",
        "profile-of-missing-user",
        "update-missing-profile",
        "remove-missing-profile",
        "mfa-twice",
        "update-missing-mfa",
        "remove-missing-mfa",
        "saml-twice",
        "update-missing-saml",
        "remove-missing-saml",
        "oidc-twice",
        "update-missing-oidc",
        "remove-missing-oidc",
        "key-record-twice",
        "update-missing-key-record",
    ],
)
def test_record_faults(store: Store, operation: Any, error: type[Exception]) -> None:
    _users(store, "AIDA1", "AIDA2")
    with store.transaction() as uow:
        uow.access_keys.add(_key("AKIA1", "AIDA1", 0))
        uow.login_profiles.add(LoginProfile("AIDA1", "h", T0))
        uow.mfa_devices.add(_device("arn:mfa/a", None))
        uow.saml_providers.add(_saml("arn:saml/a"))
        uow.oidc_providers.add(_oidc("arn:oidc/a"))
        uow.key_ring.add(KeyRecord("k1", "data", b"x", T0))
    with pytest.raises(error), store.transaction() as uow:
        operation(uow)


# --- login profiles ---------------------------------------------------------------------


def test_login_profile_add_update_remove(store: Store) -> None:
    _users(store, "AIDA1")
    profile = LoginProfile("AIDA1", "argon2$hash", T0, password_reset_required=True)
    changed = replace(profile, password_hash="new", password_reset_required=False)
    with store.transaction() as uow:
        assert uow.login_profiles.get("AIDA1") is None
        uow.login_profiles.add(profile)
    with store.transaction() as uow:
        assert uow.login_profiles.get("AIDA1") == profile
        uow.login_profiles.update(replace(changed, password_changed_at=at(3)))
    with store.transaction() as uow:
        assert uow.login_profiles.get("AIDA1") == replace(changed, password_changed_at=at(3))
        uow.login_profiles.remove("AIDA1")
    with store.transaction() as uow:
        assert uow.login_profiles.get("AIDA1") is None


# --- MFA devices ------------------------------------------------------------------------


def _device(serial: str, user_id: str | None) -> MFADevice:
    return MFADevice(serial, serial.rsplit("/", 1)[-1], "/", ALL_BYTES, T0, user_id=user_id)


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        (None, ["arn:mfa/a", "arn:mfa/b", "arn:mfa/c", "arn:mfa/r"]),
        ("AIDA1", ["arn:mfa/a", "arn:mfa/c"]),
        ("root", ["arn:mfa/r"]),
        ("AIDA9", []),
    ],
    ids=["all", "one-user", "root", "nobody"],
)
def test_mfa_devices_list_by_user_in_serial_order(
    store: Store, user_id: str | None, expected: list[str]
) -> None:
    with store.transaction() as uow:
        for serial, owner in [("c", "AIDA1"), ("b", None), ("r", "root"), ("a", "AIDA1")]:
            uow.mfa_devices.add(_device(f"arn:mfa/{serial}", owner))
    with store.transaction() as uow:
        assert [d.serial_number for d in uow.mfa_devices.list(user_id)] == expected


def test_mfa_device_enable_and_remove(store: Store) -> None:
    device = _device("arn:mfa/a", None)
    enabled = replace(device, user_id="AIDA1", enabled_at=at(2), last_counter=57_000_000)
    with store.transaction() as uow:
        uow.mfa_devices.add(replace(device, tags=(Tag("z", "1"), Tag("a", "2"))))
    with store.transaction() as uow:
        assert uow.mfa_devices.get("arn:mfa/a") == replace(
            device, tags=(Tag("z", "1"), Tag("a", "2"))
        )
        uow.mfa_devices.update(enabled)
    with store.transaction() as uow:
        assert uow.mfa_devices.list("AIDA1") == [enabled]
        uow.mfa_devices.remove("arn:mfa/a")
    with store.transaction() as uow:
        assert uow.mfa_devices.get("arn:mfa/a") is None


# --- SAML and OIDC providers ------------------------------------------------------------


def _saml(arn: str) -> SAMLProvider:
    return SAMLProvider(arn, arn.rsplit("/", 1)[-1], "<EntityDescriptor/>", T0, at(3600))


def _oidc(arn: str) -> OIDCProvider:
    return OIDCProvider(arn, "https://idp.example/" + arn[-1], T0, ("web", "cli"), ("ab" * 20,))


@pytest.mark.parametrize(
    ("repo", "build", "change"),
    [
        (
            lambda uow: uow.saml_providers,
            _saml,
            {"metadata_document": "<new/>", "valid_until": None},
        ),
        (lambda uow: uow.oidc_providers, _oidc, {"client_ids": ("z", "a"), "thumbprints": ()}),
    ],
    ids=["saml", "oidc"],
)
def test_providers_add_list_update_remove(store: Store, repo: Any, build: Any, change: Any) -> None:
    with store.transaction() as uow:
        for arn in ("arn:p/c", "arn:p/a", "arn:p/b"):
            repo(uow).add(build(arn))
    with store.transaction() as uow:
        assert [p.arn for p in repo(uow).list()] == ["arn:p/a", "arn:p/b", "arn:p/c"]
        assert repo(uow).get("arn:p/b") == build("arn:p/b")
        repo(uow).update(replace(build("arn:p/b"), tags=(Tag("k", "v"),), **change))
        repo(uow).remove("arn:p/c")
    with store.transaction() as uow:
        assert repo(uow).list() == [
            build("arn:p/a"),
            replace(build("arn:p/b"), tags=(Tag("k", "v"),), **change),
        ]


# --- key ring ---------------------------------------------------------------------------


def test_key_ring_lists_one_purpose_oldest_first(store: Store) -> None:
    records = [
        KeyRecord("k3", "data", b"3", at(30)),
        KeyRecord("k1", "data", b"1", at(10)),
        KeyRecord("t1", "token", b"t", at(5)),
        KeyRecord("k2", "data", b"2", at(30)),  # same time as k3: insertion order
    ]
    with store.transaction() as uow:
        for record in records:
            uow.key_ring.add(record)
    with store.transaction() as uow:
        uow.key_ring.update(replace(records[1], status="retired"))
    with store.transaction() as uow:
        data, token = uow.key_ring.list("data"), uow.key_ring.list("token")
    assert [(r.key_id, r.status) for r in data] == [
        ("k1", "retired"),
        ("k3", "active"),
        ("k2", "active"),
    ]
    assert (token, data[1]) == ([records[2]], records[0])


# --- values round-trip ------------------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 7, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ],
    ids=["utc-microsecond", "utc-last-microsecond", "plus-two", "minus-nine-thirty"],
)
def test_datetimes_come_back_aware_and_equal(store: Store, when: datetime) -> None:
    _users(store, "AIDA1")
    key = AccessKey("AKIA1", "AIDA1", b"", "Active", when, last_used_at=when)
    with store.transaction() as uow:
        uow.access_keys.add(key)
    with store.transaction() as uow:
        found = uow.access_keys.get("AKIA1")
    assert found == key
    assert found is not None
    assert found.created_at.utcoffset() is not None
    assert found.last_used_at is not None
    assert found.last_used_at.utcoffset() is not None


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x00", ALL_BYTES, ALL_BYTES[::-1] * 64],
    ids=["empty", "nul", "every-byte", "16k"],
)
def test_bytes_round_trip(store: Store, blob: bytes) -> None:
    with store.transaction() as uow:
        uow.key_ring.add(KeyRecord("k1", "data", blob, T0))
        uow.mfa_devices.add(replace(_device("arn:mfa/a", None), seed_sealed=blob))
    with store.transaction() as uow:
        assert uow.key_ring.list("data")[0].sealed_key == blob
        found = uow.mfa_devices.get("arn:mfa/a")
        assert found is not None
        assert found.seed_sealed == blob


@pytest.mark.parametrize(
    "text",
    ["plain", "ünïcödé ✓ 漢字", "quote ' and \" and `", "x" * 20_000],
    ids=["ascii", "unicode", "quotes", "long"],
)
def test_text_and_tags_round_trip(store: Store, text: str) -> None:
    tags = (Tag("b", text), Tag("a", ""), Tag(text[:128], "v"))
    with store.transaction() as uow:
        uow.users.add(replace(user("AIDA1", "alice"), tags=tags))
        uow.inline_policies.put(InlinePolicy("AIDA1", "p", text))
    with store.transaction() as uow:
        found = uow.users.get("AIDA1")
        assert found is not None
        assert found.tags == tags
        assert uow.inline_policies.get("AIDA1", "p") == InlinePolicy("AIDA1", "p", text)
