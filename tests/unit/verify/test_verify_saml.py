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
        hashlib.sha1(f"{IDP_ENTITY_ID}123456789012/TestIdP".encode()).digest()
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
