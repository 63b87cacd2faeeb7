"""IdP metadata parsing and the hardened XML helpers under it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.verify.metadata import parse_idp_metadata
from bridge.verify.saml_errors import InvalidSAMLMetadata, UnsafeXML
from bridge.verify.xmlsafe import decode_base64, parse_datetime, parse_xml, text_of
from tests.data.saml.gen import IDP_ENTITY_ID, MD, NOW, build_metadata, keypair

IDP, ROLLOVER, SP = keypair("idp"), keypair("idp-rollover"), keypair("sp")


def _entities(*entities: str) -> str:
    inner = "".join(e.split("?>", 1)[-1] for e in entities)
    return f'<md:EntitiesDescriptor xmlns:md="{MD}">{inner}</md:EntitiesDescriptor>'


GOOD = {
    "one-signing-cert": (build_metadata(IDP), (IDP,)),
    "rollover-two-certs": (build_metadata(IDP, ROLLOVER), (IDP, ROLLOVER)),
    "no-use-means-signing": (build_metadata(IDP, uses=[None]), (IDP,)),
    "encryption-cert-ignored": (build_metadata(SP, IDP, uses=["encryption", "signing"]), (IDP,)),
    "entities-descriptor-one-idp": (_entities(build_metadata(IDP)), (IDP,)),
    "valid-until-in-future": (build_metadata(IDP, valid_until=NOW + timedelta(days=1)), (IDP,)),
}


@pytest.mark.parametrize(("document", "signers"), GOOD.values(), ids=GOOD.keys())
def test_metadata_is_read(document: str, signers: tuple[object, ...]) -> None:
    metadata = parse_idp_metadata(document, now=NOW)
    assert metadata.entity_id == IDP_ENTITY_ID
    assert metadata.signing_certificates == tuple(p.cert_der for p in signers)  # type: ignore[attr-defined]


def test_valid_until_is_kept() -> None:
    until = NOW + timedelta(days=2)
    assert parse_idp_metadata(build_metadata(IDP, valid_until=until), now=NOW).valid_until == until


BAD = {
    "expired": (build_metadata(IDP, valid_until=NOW - timedelta(seconds=1)), "expired"),
    "only-encryption-cert": (build_metadata(IDP, uses=["encryption"]), "no signing certificate"),
    "no-cert": (build_metadata(), "no signing certificate"),
    "not-metadata": ("<foo/>", "is not an EntityDescriptor"),
    "two-idps": (_entities(build_metadata(IDP), build_metadata(ROLLOVER)), "found 2"),
    "doctype": ('<!DOCTYPE x [<!ENTITY e "x">]>' + build_metadata(IDP), "DOCTYPE"),
    "bad-certificate": (
        build_metadata(IDP).replace(IDP.cert_b64, "bm90IGEgY2VydA=="),
        "not a base64 DER certificate",
    ),
    "empty-entity-id": (build_metadata(IDP, entity_id=""), "entityID: missing or empty"),
}


@pytest.mark.parametrize(("document", "message"), BAD.values(), ids=BAD.keys())
def test_bad_metadata_is_refused(document: str, message: str) -> None:
    with pytest.raises(InvalidSAMLMetadata, match=message):
        parse_idp_metadata(document, now=NOW)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T12:00:00Z", datetime(2026, 1, 1, 12, tzinfo=UTC)),
        ("2026-01-01T12:00:00.123456789Z", datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2026-01-01T14:00:00+02:00", datetime(2026, 1, 1, 12, tzinfo=UTC)),
    ],
    ids=["zulu", "nanoseconds-cut", "offset"],
)
def test_datetime_is_parsed_to_utc(value: str, expected: datetime) -> None:
    assert parse_datetime(value, where="x") == expected


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T12:00:00", "2026-01-01", "20260101T120000Z", "2026-13-01T12:00:00Z"],
    ids=["no-timezone", "date-only", "basic-format", "month-13"],
)
def test_bad_datetime_is_refused(value: str) -> None:
    with pytest.raises(UnsafeXML, match="x: "):
        parse_datetime(value, where="x")


@pytest.mark.parametrize(
    ("xml", "text"),
    [
        (b"<a>alice@example.com<!---->.evil.com</a>", "alice@example.com.evil.com"),
        (b"<a>alice<![CDATA[@example.com]]></a>", "alice@example.com"),
        (b"<a>alice<?pi x?>@example.com</a>", "alice@example.com"),
    ],
    ids=["comment", "cdata", "processing-instruction"],
)
def test_text_is_the_whole_content(xml: bytes, text: str) -> None:
    assert text_of(parse_xml(xml, what="t"), where="t") == text


@pytest.mark.parametrize(
    ("data", "max_bytes", "message"),
    [
        ("aGVsbG8=", 3, "larger than the 3-byte limit"),
        ("aGVs*bG8=", 100, "not valid base64"),
        ("A" * 10_000, 100, "larger than the 100-byte limit"),
    ],
    ids=["decoded-too-large", "bad-alphabet", "encoded-too-large"],
)
def test_base64_is_strict_and_capped(data: str, max_bytes: int, message: str) -> None:
    with pytest.raises(UnsafeXML, match=message):
        decode_base64(data, max_bytes=max_bytes, what="d")


def test_base64_allows_line_breaks() -> None:
    assert decode_base64("aGVs\r\nbG8=\n", what="d") == b"hello"


def test_claims_reader_uses_pysaml2s_assertion_namespace() -> None:
    """`saml_claims` may not import pysaml2 (architecture rule), so its copy is checked here."""
    import saml2

    from bridge.verify.saml_claims import ASSERTION_NAMESPACE

    assert saml2.NAMESPACE == ASSERTION_NAMESPACE
