from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.directory import Directory
from bridge.errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import Tag

Snapshot = Callable[[], dict[str, Any]]
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def metadata(
    valid_until: str | None = "2030-01-01T00:00:00Z", descriptor: str = "IDPSSODescriptor"
) -> str:
    attribute = f' validUntil="{valid_until}"' if valid_until else ""
    return (
        f'<md:EntityDescriptor xmlns:md="{MD}" entityID="https://idp.example.com"{attribute}>'
        f'<md:{descriptor} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
        "</md:EntityDescriptor>"
    )


def test_saml_create_get_update_delete(directory: Directory):
    provider = directory.saml_providers.create("corp", metadata(), tags=[Tag("env", "prod")])
    assert provider.arn == "arn:aws:iam::123456789012:saml-provider/corp"
    assert provider.valid_until == datetime(2030, 1, 1, tzinfo=UTC)
    assert directory.saml_providers.get(provider.arn) == provider
    updated = directory.saml_providers.update(provider.arn, metadata(valid_until=None))
    assert updated.valid_until is None
    assert directory.saml_providers.list() == [updated]
    directory.saml_providers.delete(provider.arn)
    with pytest.raises(NotFound):
        directory.saml_providers.get(provider.arn)


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ("<md:EntityDescriptor", "well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + metadata(), "DOCTYPE"),
        (metadata().replace("EntityDescriptor", "EntitiesDescriptor"), "root element"),
        (metadata(descriptor="SPSSODescriptor"), "IDPSSODescriptor"),
        ("<EntityDescriptor><IDPSSODescriptor/></EntityDescriptor>", "root element"),
    ],
    ids=["not-xml", "doctype", "wrong-root", "no-idp-descriptor", "no-namespace"],
)
def test_saml_metadata_rules(directory: Directory, snapshot: Snapshot, document: str, rule: str):
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        directory.saml_providers.create("corp", document)
    assert caught.value.field == "saml_metadata_document"
    assert rule in caught.value.detail
    assert snapshot() == before


@pytest.mark.parametrize(
    "valid_until", ["soon", "2030-01-01T00:00:00"], ids=["not-a-date", "no-time-zone"]
)
def test_saml_valid_until_must_be_a_datetime(directory: Directory, valid_until: str):
    with pytest.raises(InvalidInput) as caught:
        directory.saml_providers.create("corp", metadata(valid_until=valid_until))
    assert caught.value.field == "saml_metadata_document.validUntil"


@pytest.mark.parametrize(
    "name", ["", "a b", "x" * 129, "a/b"], ids=["empty", "space", "long", "slash"]
)
def test_saml_name_rules(directory: Directory, name: str):
    with pytest.raises(InvalidInput) as caught:
        directory.saml_providers.create(name, metadata())
    assert caught.value.field == "name"


def test_saml_duplicate_and_limit(directory: Directory, snapshot: Snapshot):
    directory.saml_providers.create("corp", metadata())
    with pytest.raises(AlreadyExists):
        directory.saml_providers.create("corp", metadata())
    for i in range(99):
        directory.saml_providers.create(f"p{i}", metadata())
    before = snapshot()
    with pytest.raises(LimitExceeded, match="SAMLProvidersPerAccount: 100"):
        directory.saml_providers.create("one-more", metadata())
    assert snapshot() == before


def test_oidc_create_get_list_delete(directory: Directory):
    provider = directory.oidc_providers.create(
        "https://idp.example.com/realms/main",
        client_ids=["app", "app", "cli"],
        thumbprints=["A" * 40],
    )
    assert provider.arn == "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realms/main"
    assert provider.client_ids == ("app", "cli")
    assert provider.thumbprints == ("a" * 40,)
    assert directory.oidc_providers.get(provider.arn) == provider
    assert directory.oidc_providers.list() == [provider]
    directory.oidc_providers.delete(provider.arn)
    with pytest.raises(NotFound):
        directory.oidc_providers.delete(provider.arn)


@pytest.mark.parametrize(
    "url",
    ["https://idp.example.com", "http://127.0.0.1:8080/dex", "http://localhost:5556"],
    ids=["https", "loopback-ip", "localhost"],
)
def test_oidc_url_accepted(directory: Directory, url: str):
    assert directory.oidc_providers.create(url).url == url


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://idp.example.com", "https://"),
        ("ftp://idp.example.com", "https://"),
        ("https://idp.example.com?x=1", "query"),
        ("https://idp.example.com/#frag", "fragment"),
        ("https://idp.example.com:8443", "port"),
        ("https://idp.example.com:https", "not a valid url"),
        ("https://user@idp.example.com", "no user"),
        ("https://", "host"),
        ("https://idp.example.com/" + "x" * 240, "255"),
    ],
    ids=["http", "ftp", "query", "fragment", "port", "bad-port", "userinfo", "no-host", "too-long"],
)
def test_oidc_url_rejected(directory: Directory, snapshot: Snapshot, url: str, rule: str):
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        directory.oidc_providers.create(url)
    assert caught.value.field == "url"
    assert rule in caught.value.detail
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"client_ids": [""]}, InvalidInput, "client_ids[0]"),
        ({"client_ids": ["ok", "x" * 256]}, InvalidInput, "client_ids[1]"),
        ({"client_ids": [f"c{i}" for i in range(101)]}, LimitExceeded, None),
        ({"thumbprints": ["a" * 40] * 6}, InvalidInput, "thumbprints"),
        ({"thumbprints": ["g" * 40]}, InvalidInput, "thumbprints[0]"),
        ({"thumbprints": ["a" * 39]}, InvalidInput, "thumbprints[0]"),
    ],
    ids=["empty-client", "long-client", "101-clients", "six-thumbprints", "not-hex", "short"],
)
def test_oidc_client_ids_and_thumbprints(directory: Directory, kwargs, error, field):
    with pytest.raises(error) as caught:
        directory.oidc_providers.create("https://idp.example.com", **kwargs)
    if field is not None:
        assert caught.value.field == field


def test_oidc_unique_url(directory: Directory):
    directory.oidc_providers.create("https://idp.example.com")
    with pytest.raises(AlreadyExists):
        directory.oidc_providers.create("https://idp.example.com")


def test_oidc_client_ids_and_thumbprints_update(directory: Directory):
    arn = directory.oidc_providers.create("https://idp.example.com", client_ids=["app"]).arn
    directory.oidc_providers.add_client_id(arn, "cli")
    directory.oidc_providers.add_client_id(arn, "cli")
    directory.oidc_providers.remove_client_id(arn, "app")
    directory.oidc_providers.remove_client_id(arn, "absent")
    assert directory.oidc_providers.get(arn).client_ids == ("cli",)
    directory.oidc_providers.update_thumbprints(arn, ["b" * 40])
    assert directory.oidc_providers.get(arn).thumbprints == ("b" * 40,)
    with pytest.raises(InvalidInput):
        directory.oidc_providers.update_thumbprints(arn, ["zz"])
    with pytest.raises(InvalidInput):
        directory.oidc_providers.add_client_id(arn, "")


def test_oidc_at_most_100_providers(directory: Directory, snapshot: Snapshot):
    for i in range(100):
        directory.oidc_providers.create(f"https://idp{i}.example.com")
    before = snapshot()
    with pytest.raises(LimitExceeded, match="OpenIdConnectProvidersPerAccount: 100"):
        directory.oidc_providers.create("https://one-more.example.com")
    assert snapshot() == before
