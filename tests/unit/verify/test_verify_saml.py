"""The SAML verifier against real signed XML: valid responses, then the attack suite."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree

from bridge.clock import FixedClock
from bridge.storage.interfaces import SAMLProvider
from bridge.verify.saml import SAMLVerifier, SPConfig
from bridge.verify.saml_errors import ExpiredSAMLResponse, InvalidSAMLResponse
from tests.data.saml.gen import (
    ACS_URL,
    DS,
    FIXTURES,
    IDP_ENTITY_ID,
    MFA_CLASS,
    NOW,
    PERSISTENT,
    PROVIDER_ARN,
    SAML,
    SAMLP,
    SP_ENTITY_ID,
    AssertionSpec,
    build_assertion,
    build_metadata,
    build_response,
    encrypt,
    keypair,
    sign,
    signed_response,
    to_b64,
)

SPEC = AssertionSpec()


def provider(*signers: str, valid_until: Any = None) -> SAMLProvider:
    pairs = [keypair(name) for name in signers or ("idp",)]
    return SAMLProvider(PROVIDER_ARN, "TestIdP", build_metadata(*pairs), NOW, valid_until)


def verifier(*, sp_key: bool = True, max_bytes: int | None = None) -> SAMLVerifier:
    sp = SPConfig(SP_ENTITY_ID, ACS_URL, keypair("sp").key_pem if sp_key else None)
    if max_bytes is None:
        return SAMLVerifier(clock=FixedClock(NOW), sp=sp)
    return SAMLVerifier(clock=FixedClock(NOW), sp=sp, max_bytes=max_bytes)


def _find(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, {"saml": SAML, "samlp": SAMLP, "ds": DS})
    assert found is not None, path
    return found


# --- valid responses ----------------------------------------------------------------------


@dataclass(frozen=True)
class Valid:
    make: Callable[[], str]
    metadata_signers: tuple[str, ...] = ("idp",)
    options: dict[str, Any] = field(default_factory=dict)
    subject: str = "alice@example.com"


def _encrypted_signed_assertion() -> str:
    assertion = sign(build_assertion(), keypair("idp"))
    return to_b64(build_response(encrypt(assertion, keypair("sp"))))


def _encrypted_in_signed_response() -> str:
    response = build_response(encrypt(build_assertion(), keypair("sp")))
    return to_b64(sign(response, keypair("idp")))


def _rewrapped() -> str:
    """A signed assertion taken out of its Response and put into a new, unsigned one."""
    original = signed_response(sign_assertion=True)
    assertion = _find(original, "saml:Assertion")
    return to_b64(build_response(copy.deepcopy(assertion), response_id="_other-response"))


VALID = {
    "signed-assertion-only": Valid(lambda: to_b64(signed_response())),
    "signed-response-only": Valid(
        lambda: to_b64(signed_response(sign_assertion=False, sign_response=True))
    ),
    "both-signed": Valid(lambda: to_b64(signed_response(sign_response=True))),
    "encrypted-signed-assertion": Valid(_encrypted_signed_assertion),
    "encrypted-in-signed-response": Valid(_encrypted_in_signed_response),
    "rollover-old-key-signs": Valid(
        lambda: to_b64(signed_response()), metadata_signers=("idp-rollover", "idp")
    ),
    "rollover-new-key-signs": Valid(
        lambda: to_b64(signed_response(signer="idp-rollover")),
        metadata_signers=("idp", "idp-rollover"),
    ),
    "sha1-when-allowed": Valid(
        lambda: to_b64(
            sign(build_response(build_assertion()), keypair("idp"), algorithm="rsa-sha1")
        ),
        options={"allow_sha1": True},
    ),
    "rsa-sha512": Valid(
        lambda: to_b64(
            sign(build_response(build_assertion()), keypair("idp"), algorithm="rsa-sha512")
        )
    ),
    "assertion-rewrapped-in-new-response": Valid(_rewrapped),
    "in-response-to-matches": Valid(
        lambda: to_b64(signed_response(SPEC.but(in_response_to="_req-1"), in_response_to="_req-1")),
        options={"expected_in_response_to": "_req-1", "allow_unsolicited": False},
    ),
    "solicited-without-expectation": Valid(
        lambda: to_b64(signed_response(SPEC.but(in_response_to="_req-1"))),
        options={"allow_unsolicited": False},
    ),
    "within-clock-skew-after-expiry": Valid(
        lambda: to_b64(
            signed_response(
                SPEC.but(
                    not_on_or_after=timedelta(seconds=-30),
                    confirmation_not_on_or_after=timedelta(seconds=-30),
                )
            )
        )
    ),
    "within-clock-skew-before-start": Valid(
        lambda: to_b64(signed_response(SPEC.but(not_before=timedelta(seconds=45))))
    ),
    "static-fixture-both-signed": Valid(
        lambda: to_b64((FIXTURES / "response-signed-both.xml").read_bytes())
    ),
    "static-fixture-encrypted": Valid(
        lambda: to_b64((FIXTURES / "response-encrypted.xml").read_bytes())
    ),
}


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_valid_response_is_accepted(case: Valid) -> None:
    identity = verifier().verify(case.make(), provider(*case.metadata_signers), **case.options)
    assert identity.subject == case.subject
    assert identity.message_id == SPEC.assertion_id
    assert identity.issuer == IDP_ENTITY_ID
    assert identity.audience == ACS_URL
    assert identity.attribute("groups") == ("staff", "admins")


def test_identity_fields_come_from_the_assertion() -> None:
    spec = SPEC.but(
        name_id="u-1234",
        name_id_format=PERSISTENT,
        class_ref=MFA_CLASS,
        not_on_or_after=timedelta(minutes=3),
        confirmation_not_on_or_after=timedelta(minutes=4),
        attributes=(
            ("urn:oid:0.9.2342.19200300.100.1.3", "mail", ("a@example.com", "b@example.com")),
            ("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", None, ("g1",)),
            ("memberOf", None, ("cn=g2", "g1")),
            ("urn:oid:0.9.2342.19200300.100.1.3", "mail", ("c@example.com",)),
        ),
    )
    identity = verifier().verify(to_b64(signed_response(spec)), provider())
    expected_qualifier = base64.b64encode(
        hashlib.sha1(
            f"{IDP_ENTITY_ID}123456789012/TestIdP".encode(), usedforsecurity=False
        ).digest()
    ).decode()
    assert identity.subject == "u-1234"
    assert identity.subject_type == "persistent"
    assert identity.name_qualifier == expected_qualifier
    assert identity.expires_at == NOW + timedelta(minutes=3)
    assert identity.authenticated_at == NOW - timedelta(seconds=30)
    assert identity.session_not_on_or_after == NOW + timedelta(hours=8)
    assert identity.mfa is True
    assert identity.groups == ("g1", "cn=g2")
    mail = ("a@example.com", "b@example.com", "c@example.com")
    assert identity.attribute("urn:oid:0.9.2342.19200300.100.1.3") == mail
    assert identity.attribute("mail") == mail


@pytest.mark.parametrize(
    ("name_id_format", "subject_type"),
    [
        (PERSISTENT, "persistent"),
        ("urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "transient"),
        (
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        ),
        (None, "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"),
    ],
    ids=["persistent", "transient", "saml11-email-verbatim", "absent-is-unspecified"],
)
def test_subject_type_is_the_short_format(name_id_format: str | None, subject_type: str) -> None:
    response = signed_response(SPEC.but(name_id_format=name_id_format))
    assert verifier().verify(to_b64(response), provider()).subject_type == subject_type


@pytest.mark.parametrize(
    ("class_ref", "mfa"),
    [
        (MFA_CLASS, True),
        ("urn:example:MultiFactor", True),
        ("urn:example:mfa:totp", True),
        ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", False),
    ],
    ids=["ms-multipleauthn", "multifactor", "mfa", "password"],
)
def test_mfa_follows_the_authn_context(class_ref: str, mfa: bool) -> None:
    response = signed_response(SPEC.but(class_ref=class_ref))
    assert verifier().verify(to_b64(response), provider()).mfa is mfa


# --- the attack suite -------------------------------------------------------------------


def _evil_assertion(assertion_id: str = "_evil") -> etree._Element:
    """An unsigned assertion for the administrator, otherwise valid."""
    return build_assertion(SPEC.but(assertion_id=assertion_id, name_id="admin@example.com"))


def _signature(element: etree._Element) -> etree._Element:
    return _find(element, "ds:Signature")


def _object(signature: etree._Element, content: etree._Element) -> None:
    etree.SubElement(signature, f"{{{DS}}}Object").append(content)


def _extensions(response: etree._Element, content: etree._Element) -> None:
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(content)
    response.insert(1, extensions)


def xsw1() -> str:
    """Unsigned forged Response; the signed original Response inside its Signature/Object."""
    original = signed_response(sign_assertion=False, sign_response=True)
    forged = build_response(_evil_assertion(), response_id="_forged")
    signature = copy.deepcopy(_signature(original))
    original.remove(_signature(original))
    _object(signature, original)
    forged.insert(1, signature)
    return to_b64(forged)


def xsw2() -> str:
    """Forged Response carrying the original's Signature, the original Response beside it."""
    original = signed_response(sign_assertion=False, sign_response=True)
    forged = build_response(_evil_assertion(), response_id="_forged")
    signature = copy.deepcopy(_signature(original))
    original.remove(_signature(original))
    forged.insert(1, signature)
    forged.insert(1, original)
    return to_b64(forged)


def xsw3() -> str:
    """A forged assertion placed before the signed one in the Response."""
    response = signed_response()
    response.insert(2, _evil_assertion())
    return to_b64(response)


def xsw4() -> str:
    """A forged assertion that contains the signed one as a child."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    evil = _evil_assertion()
    response.replace(signed, evil)
    evil.append(signed)
    return to_b64(response)


def xsw5() -> str:
    """The forged assertion carries the original Signature; the original sits at the end."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    evil = _evil_assertion()
    evil.insert(1, copy.deepcopy(_signature(signed)))
    signed.remove(_signature(signed))
    response.replace(signed, evil)
    _extensions(response, signed)
    return to_b64(response)


def xsw6() -> str:
    """The forged assertion's copied Signature holds the original in its Object."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    evil = _evil_assertion()
    signature = copy.deepcopy(_signature(signed))
    evil.insert(1, signature)
    response.replace(signed, evil)
    _object(signature, signed)
    return to_b64(response)


def xsw7() -> str:
    """The signed assertion moved into Extensions; a forged one in its place."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    response.replace(signed, _evil_assertion())
    _extensions(response, signed)
    return to_b64(response)


def xsw8() -> str:
    """As XSW6, with the original's own Signature removed (its digest still matches)."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    evil = _evil_assertion()
    signature = copy.deepcopy(_signature(signed))
    signed.remove(_signature(signed))
    evil.insert(1, signature)
    response.replace(signed, evil)
    _object(signature, signed)
    return to_b64(response)


def duplicate_ids() -> str:
    """A forged assertion with the signed one's ID; the signed one hidden in Extensions."""
    response = signed_response()
    signed = _find(response, "saml:Assertion")
    response.replace(signed, _evil_assertion(SPEC.assertion_id))
    _extensions(response, signed)
    return to_b64(response)


def unsigned_response_wrapping_other_subject() -> str:
    """Bob's signed Response hidden in an unsigned Response asserting the administrator."""
    bob = signed_response(
        SPEC.but(name_id="bob@example.com"), sign_assertion=False, sign_response=True
    )
    forged = build_response(_evil_assertion(), response_id="_forged")
    _extensions(forged, bob)
    return to_b64(forged)


def reference_to_other_element() -> str:
    """A signature whose Reference points at another element than its parent."""
    response = build_response(build_assertion())
    sign(_find(response, "saml:Assertion"), keypair("idp"), reference_id="_response-0001")
    return to_b64(response)


def comment_in_nameid_truncation() -> str:
    """Signed for alice@example.com.evil.com; a comment tries to cut it to alice@example.com."""
    response = signed_response(SPEC.but(name_id="alice@example.com.evil.com"))
    xml = etree.tostring(response).replace(
        b"alice@example.com.evil.com</saml:NameID>",
        b"alice@example.com<!---->.evil.com</saml:NameID>",
    )
    return to_b64(xml)


def stripped_signature() -> str:
    response = signed_response()
    assertion = _find(response, "saml:Assertion")
    assertion.remove(_signature(assertion))
    return to_b64(response)


def tampered_after_signing() -> str:
    response = signed_response()
    _find(response, "saml:Assertion/saml:Subject/saml:NameID").text = "admin@example.com"
    return to_b64(response)


def element_in_nameid() -> str:
    """A signed NameID with mixed content: refused rather than guessed."""
    assertion = build_assertion()
    name_id = _find(assertion, "saml:Subject/saml:NameID")
    name_id.text = "alice"
    etree.SubElement(name_id, f"{{{SAML}}}b").tail = "@example.com"
    return to_b64(build_response(sign(assertion, keypair("idp"))))


def _wrap_xml(prefix: bytes) -> Callable[[], str]:
    return lambda: to_b64(prefix + etree.tostring(signed_response()))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b"]>"
)
EXTERNAL_ENTITY = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@dataclass(frozen=True)
class Attack:
    make: Callable[[], str]
    error: type[Exception]
    message: str
    options: dict[str, Any] = field(default_factory=dict)
    metadata_signers: tuple[str, ...] = ("idp",)
    sp_key: bool = True


INVALID = InvalidSAMLResponse
EXPIRED = ExpiredSAMLResponse
ATTACKS = {
    "xsw1-response-in-signature-object": Attack(xsw1, INVALID, "does not point at"),
    "xsw2-response-beside-signature": Attack(xsw2, INVALID, "does not point at"),
    "xsw3-forged-assertion-first": Attack(xsw3, INVALID, "exactly one Assertion"),
    "xsw4-forged-assertion-wraps-signed": Attack(xsw4, INVALID, "neither"),
    "xsw5-copied-signature-original-in-extensions": Attack(xsw5, INVALID, "does not point at"),
    "xsw6-original-in-signature-object": Attack(xsw6, INVALID, "does not point at"),
    "xsw7-signed-assertion-in-extensions": Attack(xsw7, INVALID, "neither"),
    "xsw8-original-unsigned-in-object": Attack(xsw8, INVALID, "does not point at"),
    "duplicate-ids": Attack(duplicate_ids, INVALID, "appears more than once"),
    "unsigned-response-wrapping-other-subject": Attack(
        unsigned_response_wrapping_other_subject, INVALID, "neither"
    ),
    "reference-to-other-element": Attack(reference_to_other_element, INVALID, "does not point"),
    "stripped-signature": Attack(stripped_signature, INVALID, "neither"),
    "tampered-after-signing": Attack(tampered_after_signing, INVALID, "does not verify"),
    "signed-by-attacker-key": Attack(
        lambda: to_b64(signed_response(signer="attacker")), INVALID, "does not verify"
    ),
    "attacker-key-with-idp-cert-in-keyinfo": Attack(
        lambda: to_b64(
            build_response(sign(build_assertion(), keypair("attacker"), embed_cert=keypair("idp")))
        ),
        INVALID,
        "does not verify",
    ),
    "response-by-attacker-assertion-by-idp": Attack(
        lambda: to_b64(sign(signed_response(), keypair("attacker"))),
        INVALID,
        "Response/ds:Signature: does not verify",
    ),
    "sha1-signature-not-allowed": Attack(
        lambda: to_b64(
            sign(build_response(build_assertion()), keypair("idp"), algorithm="rsa-sha1")
        ),
        INVALID,
        "SHA-1 is refused",
    ),
    "sha1-digest-not-allowed": Attack(
        lambda: to_b64(
            sign(
                build_response(build_assertion()),
                keypair("idp"),
                algorithm="rsa-sha256+sha1-digest",
            )
        ),
        INVALID,
        "DigestMethod: algorithm `http://www.w3.org/2000/09/xmldsig#sha1`",
    ),
    "wrong-assertion-issuer": Attack(
        lambda: to_b64(signed_response(SPEC.but(issuer="https://evil.test/idp"))),
        INVALID,
        f"Assertion/Issuer: expected `{IDP_ENTITY_ID}`, saw `https://evil.test/idp`",
    ),
    "wrong-response-issuer": Attack(
        lambda: to_b64(signed_response(issuer="https://evil.test/idp")),
        INVALID,
        "Response/Issuer: expected",
    ),
    "wrong-audience": Attack(
        lambda: to_b64(signed_response(SPEC.but(audience="https://other-sp.test"))),
        INVALID,
        f"Audience: expected `{SP_ENTITY_ID}`, saw `https://other-sp.test`",
    ),
    "missing-audience": Attack(
        lambda: to_b64(signed_response(SPEC.but(audience=None))),
        INVALID,
        "AudienceRestriction: missing",
    ),
    "wrong-recipient": Attack(
        lambda: to_b64(signed_response(SPEC.but(recipient="https://evil.test/acs"))),
        INVALID,
        f"@Recipient: expected `{ACS_URL}`, saw `https://evil.test/acs`",
    ),
    "missing-recipient": Attack(
        lambda: to_b64(signed_response(SPEC.but(recipient=None))),
        INVALID,
        "@Recipient: expected",
    ),
    "wrong-destination": Attack(
        lambda: to_b64(signed_response(sign_response=True, destination="https://evil.test/acs")),
        INVALID,
        "Response@Destination: expected",
    ),
    "expired-conditions": Attack(
        lambda: to_b64(signed_response(SPEC.but(not_on_or_after=timedelta(seconds=-300)))),
        EXPIRED,
        "Conditions@NotOnOrAfter: expired, `2026-01-01T11:55:00+00:00` is 300 s before now "
        "`2026-01-01T12:00:00+00:00` (allowed clock skew 60 s)",
    ),
    "expired-confirmation": Attack(
        lambda: to_b64(
            signed_response(SPEC.but(confirmation_not_on_or_after=timedelta(seconds=-90)))
        ),
        EXPIRED,
        "SubjectConfirmationData@NotOnOrAfter: expired, `2026-01-01T11:58:30+00:00` is 90 s",
    ),
    "expired-beyond-a-smaller-provider-skew": Attack(
        lambda: to_b64(signed_response(SPEC.but(not_on_or_after=timedelta(seconds=-30)))),
        EXPIRED,
        "is 30 s before now `2026-01-01T12:00:00+00:00` (allowed clock skew 10 s)",
        options={"clock_skew": timedelta(seconds=10)},
    ),
    "not-yet-valid": Attack(
        lambda: to_b64(signed_response(SPEC.but(not_before=timedelta(seconds=120)))),
        EXPIRED,
        "Conditions@NotBefore: not yet valid, `2026-01-01T12:02:00+00:00` is 120 s after now",
    ),
    "missing-confirmation-expiry": Attack(
        lambda: to_b64(signed_response(SPEC.but(confirmation_not_on_or_after=None))),
        INVALID,
        "@NotOnOrAfter: missing",
    ),
    "session-already-over": Attack(
        lambda: to_b64(signed_response(SPEC.but(session_not_on_or_after=timedelta(minutes=-5)))),
        EXPIRED,
        "AuthnStatement@NotOnOrAfter: expired",
    ),
    "status-not-success": Attack(
        lambda: to_b64(
            signed_response(
                sign_response=True, status="urn:oasis:names:tc:SAML:2.0:status:Requester"
            )
        ),
        INVALID,
        "saw `urn:oasis:names:tc:SAML:2.0:status:Requester`",
    ),
    "holder-of-key-instead-of-bearer": Attack(
        lambda: to_b64(
            signed_response(SPEC.but(method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"))
        ),
        INVALID,
        "no confirmation with Method `urn:oasis:names:tc:SAML:2.0:cm:bearer`",
    ),
    "in-response-to-mismatch": Attack(
        lambda: to_b64(signed_response(SPEC.but(in_response_to="_req-other"))),
        INVALID,
        "@InResponseTo: expected `_req-1`, saw `_req-other`",
        options={"expected_in_response_to": "_req-1"},
    ),
    "in-response-to-missing-when-expected": Attack(
        lambda: to_b64(signed_response(in_response_to="_req-1")),
        INVALID,
        "SubjectConfirmationData@InResponseTo: expected `_req-1`, saw nothing",
        options={"expected_in_response_to": "_req-1"},
    ),
    "unsolicited-not-allowed": Attack(
        lambda: to_b64(signed_response(in_response_to="_added-to-unsigned-response")),
        INVALID,
        "unsolicited (IdP-initiated) responses are not allowed",
        options={"allow_unsolicited": False},
    ),
    "doctype": Attack(_wrap_xml(b"<!DOCTYPE Response>"), INVALID, "DOCTYPE"),
    "billion-laughs": Attack(_wrap_xml(BILLION_LAUGHS), INVALID, "DOCTYPE"),
    "external-entity": Attack(_wrap_xml(EXTERNAL_ENTITY), INVALID, "DOCTYPE"),
    "utf16-declaration": Attack(
        _wrap_xml(b'<?xml version="1.0" encoding="UTF-16"?>'), INVALID, "encoding `UTF-16`"
    ),
    "oversized": Attack(
        lambda: to_b64(b"<r>" + b"a" * 300_000 + b"</r>"), INVALID, "larger than the"
    ),
    "malformed-base64": Attack(lambda: "PHNhbWxwOl!!!", INVALID, "not valid base64"),
    "malformed-xml": Attack(lambda: to_b64(b"<samlp:Response"), INVALID, "not well-formed"),
    "not-a-response": Attack(lambda: to_b64(build_assertion()), INVALID, "is not a Response"),
    "element-in-nameid": Attack(
        element_in_nameid,
        INVALID,
        "NameID: element content is not allowed",
    ),
    "encrypted-without-sp-key": Attack(
        _encrypted_signed_assertion, INVALID, "no SP private key is configured", sp_key=False
    ),
    "encrypted-for-another-key": Attack(
        lambda: to_b64(
            build_response(encrypt(sign(build_assertion(), keypair("idp")), keypair("attacker")))
        ),
        INVALID,
        "cannot be decrypted with the SP key",
    ),
    "encrypted-unsigned-everywhere": Attack(
        lambda: to_b64(build_response(encrypt(build_assertion(), keypair("sp")))),
        INVALID,
        "neither",
    ),
    "metadata-of-another-idp": Attack(
        lambda: to_b64(signed_response()),
        INVALID,
        "does not verify with any of the 1 signing certificates",
        metadata_signers=("idp-rollover",),
    ),
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_is_refused(attack: Attack) -> None:
    with pytest.raises(attack.error) as caught:
        verifier(sp_key=attack.sp_key).verify(
            attack.make(), provider(*attack.metadata_signers), **attack.options
        )
    assert attack.message in str(caught.value)
    assert type(caught.value) is attack.error


def test_comment_injection_cannot_shorten_the_nameid() -> None:
    identity = verifier().verify(comment_in_nameid_truncation(), provider())
    assert identity.subject == "alice@example.com.evil.com"


def test_expired_error_reports_the_skew() -> None:
    response = signed_response(SPEC.but(not_on_or_after=timedelta(seconds=-300)))
    with pytest.raises(ExpiredSAMLResponse) as caught:
        verifier().verify(to_b64(response), provider())
    assert caught.value.skew == timedelta(seconds=300)


@pytest.mark.parametrize(
    ("valid_until", "metadata_expiry", "message"),
    [
        (NOW - timedelta(seconds=1), None, "saml provider `arn:aws:iam::123456789012:saml"),
        (None, NOW - timedelta(days=1), "metadata: expired, validUntil"),
    ],
    ids=["provider-record-expired", "metadata-valid-until-passed"],
)
def test_expired_provider_is_refused(valid_until: Any, metadata_expiry: Any, message: str) -> None:
    record = SAMLProvider(
        PROVIDER_ARN,
        "TestIdP",
        build_metadata(keypair("idp"), valid_until=metadata_expiry),
        NOW,
        valid_until,
    )
    with pytest.raises(InvalidSAMLResponse, match="expired") as caught:
        verifier().verify(to_b64(signed_response()), record)
    assert message in str(caught.value)


def test_sha1_acceptance_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    response = sign(build_response(build_assertion()), keypair("idp"), algorithm="rsa-sha1")
    verifier().verify(to_b64(response), provider(), allow_sha1=True)
    assert "SHA-1" in caplog.text
    assert IDP_ENTITY_ID in caplog.text


def test_cached_metadata_still_expires() -> None:
    clock = FixedClock(NOW)
    record = SAMLProvider(
        PROVIDER_ARN,
        "TestIdP",
        build_metadata(keypair("idp"), valid_until=NOW + timedelta(minutes=2)),
        NOW,
    )
    verifier = SAMLVerifier(clock=clock, sp=SPConfig(SP_ENTITY_ID, ACS_URL))
    response = to_b64(signed_response())
    assert verifier.verify(response, record).subject == "alice@example.com"
    clock.advance(150)
    with pytest.raises(InvalidSAMLResponse, match="metadata: expired"):
        verifier.verify(response, record)
