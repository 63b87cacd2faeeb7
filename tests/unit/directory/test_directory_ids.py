from __future__ import annotations

import re

import pytest
from directory_support import SeededRandom

from bridge.directory import ids
from bridge.errors import InvalidInput


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [("user", "AIDA"), ("group", "AGPA"), ("role", "AROA"), ("policy", "ANPA")],
    ids=["user", "group", "role", "policy"],
)
def test_unique_id_has_kind_prefix_and_17_base32_characters(kind: ids.EntityKind, prefix: str):
    value = ids.unique_id(SeededRandom(), kind)
    assert re.fullmatch(prefix + "[A-Z2-7]{17}", value)


@pytest.mark.parametrize(
    ("make", "prefix"),
    [(ids.access_key_id, "AKIA"), (ids.temporary_access_key_id, "ASIA")],
    ids=["long-term", "temporary"],
)
def test_access_key_ids_are_20_characters(make, prefix: str):
    assert re.fullmatch(prefix + "[A-Z2-7]{16}", make(SeededRandom()))


def test_secret_access_key_is_40_base64_characters():
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", ids.secret_access_key(SeededRandom()))


def test_ids_come_from_the_injected_random():
    assert ids.unique_id(SeededRandom(1), "user") == ids.unique_id(SeededRandom(1), "user")
    assert ids.unique_id(SeededRandom(1), "user") != ids.unique_id(SeededRandom(2), "user")


@pytest.mark.parametrize(
    ("kind", "path", "name", "expected"),
    [
        ("user", "/", "alice", "arn:aws:iam::123456789012:user/alice"),
        ("user", "/eng/", "alice", "arn:aws:iam::123456789012:user/eng/alice"),
        ("group", "/a/b/", "devs", "arn:aws:iam::123456789012:group/a/b/devs"),
        ("role", "/", "admin", "arn:aws:iam::123456789012:role/admin"),
        ("policy", "/", "read", "arn:aws:iam::123456789012:policy/read"),
        ("mfa", "/", "phone", "arn:aws:iam::123456789012:mfa/phone"),
    ],
    ids=["user-root-path", "user-nested-path", "group", "role", "policy", "mfa"],
)
def test_entity_arn(kind: ids.ArnKind, path: str, name: str, expected: str):
    assert ids.entity_arn("123456789012", kind, path, name) == expected


def test_provider_and_root_arns():
    assert ids.root_arn("123456789012") == "arn:aws:iam::123456789012:root"
    assert (
        ids.saml_provider_arn("123456789012", "corp")
        == "arn:aws:iam::123456789012:saml-provider/corp"
    )
    assert (
        ids.oidc_provider_arn("123456789012", "https://idp.example.com/realms/x")
        == "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realms/x"
    )


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::123456789012:user/alice", ("user", "/", "alice")),
        ("arn:aws:iam::123456789012:user/eng/ops/alice", ("user", "/eng/ops/", "alice")),
        ("arn:aws:iam::123456789012:policy/read", ("policy", "/", "read")),
        ("arn:aws:iam::123456789012:root", ("root", "/", "")),
        ("arn:aws:iam::123456789012:saml-provider/corp", ("saml-provider", "/", "corp")),
        (
            "arn:aws:iam::123456789012:oidc-provider/idp.example.com/x",
            ("oidc-provider", "/", "idp.example.com/x"),
        ),
    ],
    ids=["user", "user-with-path", "policy", "root", "saml-provider", "oidc-provider"],
)
def test_parse_arn(arn: str, expected: tuple[str, str, str]):
    parsed = ids.parse_arn(arn)
    assert (parsed.kind, parsed.path, parsed.name) == expected
    assert parsed.account_id == "123456789012"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::bucket",
        "arn:aws:iam::12345:user/alice",
        "arn:aws:iam::123456789012:user/",
        "arn:aws:iam::123456789012:instance-profile/x",
    ],
    ids=["not-iam", "short-account", "no-name", "unknown-kind"],
)
def test_parse_arn_rejects(arn: str):
    with pytest.raises(InvalidInput) as caught:
        ids.parse_arn(arn, "policy_arn")
    assert caught.value.field == "policy_arn"
