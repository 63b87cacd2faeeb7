"""Verify a SAML 2.0 Response (HTTP-POST binding) into a `VerifiedIdentity`.

Order (CONVENTIONS 4): hardened parse and duplicate-ID refusal, signatures with keys
from the provider metadata only (`saml_xmlsec`), then every declared check on values
read from the signed element alone:

- Response: Version 2.0, Status Success (core 3.2.2.2), Destination = ACS URL when
  present (core 3.2.2), Issuer = the provider's entity id when present, InResponseTo
  (profiles 4.1.4.3: an unsolicited response only when the caller allows it);
- Assertion (profiles 4.1.4.2): one Assertion or EncryptedAssertion, signed itself or
  inside a signed Response; Issuer = entity id; a bearer SubjectConfirmation whose
  SubjectConfirmationData has Recipient = ACS URL and a NotOnOrAfter; Conditions with
  an AudienceRestriction naming this SP (core 2.5.1.4); NotBefore/NotOnOrAfter with
  the provider's clock skew (core 2.5.1.2, 2.4.1.2); an AuthnStatement.

pysaml2 is used minimally, for the SAML names (namespaces, formats, status codes):
its own signature check starts the `xmlsec1` program several times per response (about
7 responses/s here), its in-process backend does not work with current python-xmlsec,
and its data model re-parses the document with another parser, which would reopen the
signature-wrapping gap that reading from the verified element closes. No replay check
here: the federation step keys one-time use by `message_id` (the Assertion ID).
Attributes, groups and the AuthnStatement are read in `saml_claims`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from saml2 import NAMESPACE as SAML
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_UNSPECIFIED, SCM_BEARER
from saml2.samlp import NAMESPACE as SAMLP
from saml2.samlp import STATUS_SUCCESS

from bridge.clock import Clock
from bridge.storage.interfaces import SAMLProvider
from bridge.verify import saml_xmlsec
from bridge.verify.identity import VerifiedIdentity
from bridge.verify.metadata import IdPMetadata, check_fresh, parse_idp_metadata
from bridge.verify.saml_claims import authn_statement, check_window, read_attributes, read_groups
from bridge.verify.saml_errors import (
    ExpiredSAMLResponse,
    InvalidSAMLMetadata,
    InvalidSAMLResponse,
    UnsafeXML,
)
from bridge.verify.xmlsafe import (
    DEFAULT_MAX_BYTES,
    Element,
    child,
    children,
    decode_base64,
    index_ids,
    one,
    optional_datetime,
    parse_fragment,
    parse_xml,
    tag_of,
    text_of,
)

NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
MFA_MARKERS = ("multifactor", "mfa", "multipleauthn")  # e.g. ADFS `.../claims/multipleauthn`
DEFAULT_SKEW = timedelta(seconds=60)
_METADATA_CACHE_SIZE = 64


def _a(name: str) -> str:
    return f"{{{SAML}}}{name}"


def _p(name: str) -> str:
    return f"{{{SAMLP}}}{name}"


@dataclass(frozen=True)
class SPConfig:
    """This bridge as a SAML service provider."""

    entity_id: str
    acs_url: str
    private_key_pem: bytes | None = None  # decrypts EncryptedAssertion


@dataclass(frozen=True)
class _Rules:
    """The per-call parameters of one verification."""

    now: datetime
    skew: timedelta
    allow_sha1: bool
    expected_in_response_to: str | None
    allow_unsolicited: bool


@dataclass(frozen=True)
class _Trusted:
    metadata: IdPMetadata
    keys: saml_xmlsec.TrustedKeys


class SAMLVerifier:
    """Turn a base64 SAMLResponse into a `VerifiedIdentity`, or raise a SAML error."""

    def __init__(self, *, clock: Clock, sp: SPConfig, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._clock = clock
        self._sp = sp
        self._max_bytes = max_bytes
        self._trusted: dict[str, _Trusted] = {}  # metadata document → parsed keys
        self._decryption_key = (
            None
            if sp.private_key_pem is None
            else saml_xmlsec.load_decryption_key(sp.private_key_pem)
        )

    def verify(
        self,
        saml_response_b64: str,
        provider: SAMLProvider,
        *,
        clock_skew: timedelta = DEFAULT_SKEW,
        allow_sha1: bool = False,
        expected_in_response_to: str | None = None,
        allow_unsolicited: bool = True,
    ) -> VerifiedIdentity:
        rules = _Rules(
            self._clock.now(), clock_skew, allow_sha1, expected_in_response_to, allow_unsolicited
        )
        trusted = self._trusted_for(provider, rules.now)
        try:
            response, assertion = self._signed_parts(saml_response_b64, trusted, rules)
            _check_response(response, trusted.metadata.entity_id, self._sp, rules)
            return _identity(assertion, provider, trusted.metadata.entity_id, self._sp, rules)
        except UnsafeXML as exc:
            raise InvalidSAMLResponse(exc.message) from exc

    def _trusted_for(self, provider: SAMLProvider, now: datetime) -> _Trusted:
        if provider.valid_until is not None and provider.valid_until <= now:
            raise InvalidSAMLResponse(
                f"saml provider `{provider.arn}`: expired at `{provider.valid_until.isoformat()}`"
            )
        cached = self._trusted.get(provider.metadata_document)
        try:
            if cached is None:
                cached = self._load(provider.metadata_document, now)
            check_fresh(cached.metadata, now=now)
        except InvalidSAMLMetadata as exc:
            raise InvalidSAMLResponse(f"saml provider `{provider.arn}`: {exc.message}") from exc
        return cached

    def _load(self, document: str, now: datetime) -> _Trusted:
        """Parse a metadata document once and keep its keys (a small bounded cache)."""
        metadata = parse_idp_metadata(document, now=now)
        if len(self._trusted) >= _METADATA_CACHE_SIZE:
            self._trusted.pop(next(iter(self._trusted)), None)
        trusted = _Trusted(metadata, saml_xmlsec.load_keys(metadata.signing_certificates))
        self._trusted[document] = trusted
        return trusted

    def _signed_parts(self, b64: str, trusted: _Trusted, rules: _Rules) -> tuple[Element, Element]:
        """The Response and the Assertion, each the signed copy where it was signed."""
        raw = decode_base64(b64, max_bytes=self._max_bytes, what="SAMLResponse")
        root = parse_xml(raw, max_bytes=self._max_bytes, what="SAMLResponse")
        index_ids(root, what="SAMLResponse")
        if root.tag != _p("Response"):
            raise InvalidSAMLResponse(
                f"SAMLResponse: root element `{tag_of(root)}` is not a Response"
            )
        response = root
        if saml_xmlsec.signature_of(root, where="Response") is not None:
            response = self._verified(root, trusted, rules, "Response")
        assertion = self._assertion(response)
        if saml_xmlsec.signature_of(assertion, where="Assertion") is not None:
            assertion = self._verified(assertion, trusted, rules, "Assertion")
        elif response is root:
            raise InvalidSAMLResponse(
                "SAMLResponse: neither the Response nor the Assertion is signed"
            )
        return response, assertion

    def _verified(self, element: Element, trusted: _Trusted, rules: _Rules, where: str) -> Element:
        verified = saml_xmlsec.verify_enveloped(
            element, trusted.keys, allow_sha1=rules.allow_sha1, where=where
        )
        if verified.used_sha1:
            logging.getLogger(__name__).warning(
                "accepted a SHA-1 signature on the %s from `%s` (allowed for this provider)",
                where,
                trusted.metadata.entity_id,
            )
        return verified.element

    def _assertion(self, response: Element) -> Element:
        plain = children(response, _a("Assertion"))
        encrypted = children(response, _a("EncryptedAssertion"))
        if len(plain) + len(encrypted) != 1:
            raise InvalidSAMLResponse(
                "Response: expected exactly one Assertion or EncryptedAssertion, "
                f"found {len(plain) + len(encrypted)}"
            )
        return plain[0] if plain else self._decrypted(encrypted[0])

    def _decrypted(self, encrypted: Element) -> Element:
        if self._decryption_key is None:
            raise InvalidSAMLResponse(
                "Response/EncryptedAssertion: encrypted, but no SP private key is configured"
            )
        where = "Response/EncryptedAssertion"
        data = saml_xmlsec.decrypt(encrypted, self._decryption_key, where=where)
        root = parse_fragment(data, encrypted.nsmap, max_bytes=self._max_bytes, what=where)
        index_ids(root, what=where)
        if root.tag != _a("Assertion"):
            raise InvalidSAMLResponse(f"{where}: decrypted `{tag_of(root)}`, not an Assertion")
        return root


def _check_response(response: Element, entity_id: str, sp: SPConfig, rules: _Rules) -> None:
    _expect(response.get("Version"), "2.0", "Response@Version")
    destination = response.get("Destination")
    if destination is not None:
        _expect(destination, sp.acs_url, "Response@Destination")
    issuer = child(response, _a("Issuer"), where="Response", required=False)
    if issuer is not None:
        _expect(text_of(issuer, where="Response/Issuer"), entity_id, "Response/Issuer")
    _check_status(response)
    in_response_to = response.get("InResponseTo")
    if rules.expected_in_response_to is not None and in_response_to is not None:
        _expect(in_response_to, rules.expected_in_response_to, "Response@InResponseTo")


def _expect(seen: str | None, expected: str, where: str) -> None:
    if seen != expected:
        shown = "nothing" if seen is None else f"`{seen}`"
        raise InvalidSAMLResponse(f"{where}: expected `{expected}`, saw {shown}")


def _check_status(response: Element) -> None:
    status = one(response, _p("Status"), where="Response")
    code = one(status, _p("StatusCode"), where="Response/Status")
    if code.get("Value") == STATUS_SUCCESS:
        return
    nested = [c.get("Value", "") for c in code.iter(_p("StatusCode")) if c is not code]
    message = "".join(m.text or "" for m in status.iter(_p("StatusMessage")))
    raise InvalidSAMLResponse(
        f"Response/Status/StatusCode: expected `{STATUS_SUCCESS}`, saw `{code.get('Value')}`"
        + "".join(f" / `{n}`" for n in nested)
        + (f" with message `{message.strip()}`" if message.strip() else "")
    )


def _check_in_response_to(seen: str | None, where: str, rules: _Rules) -> None:
    """The signed InResponseTo (profiles 4.1.4.2) answers our request, or none is allowed."""
    expected = rules.expected_in_response_to
    if expected is not None:
        _expect(seen, expected, where)
    elif seen is None and not rules.allow_unsolicited:
        raise InvalidSAMLResponse(
            f"{where}: missing; unsolicited (IdP-initiated) responses are not allowed here"
        )


def _identity(
    assertion: Element, provider: SAMLProvider, entity_id: str, sp: SPConfig, rules: _Rules
) -> VerifiedIdentity:
    _expect(assertion.get("Version"), "2.0", "Assertion@Version")
    assertion_id = assertion.get("ID")
    if not assertion_id:
        raise InvalidSAMLResponse("Assertion@ID: missing")
    issuer = _required(assertion, "Issuer", "Assertion")
    if issuer.get("Format", NAMEID_FORMAT_ENTITY) != NAMEID_FORMAT_ENTITY:
        raise InvalidSAMLResponse(
            f"Assertion/Issuer@Format: `{issuer.get('Format')}` is not entity"
        )
    _expect(text_of(issuer, where="Assertion/Issuer"), entity_id, "Assertion/Issuer")
    subject = _required(assertion, "Subject", "Assertion")
    name_id = _name_id(subject)
    confirmed_until = _bearer_confirmation(subject, sp, rules)
    conditions_until = _check_conditions(assertion, sp, rules)
    authn = authn_statement(assertion, now=rules.now, skew=rules.skew)
    attributes = read_attributes(assertion)
    name_format = name_id.get("Format", NAMEID_FORMAT_UNSPECIFIED)
    return VerifiedIdentity(
        protocol="saml",
        provider_arn=provider.arn,
        issuer=entity_id,
        subject=text_of(name_id, where="Assertion/Subject/NameID"),
        subject_type=name_format.removeprefix(NAMEID_PREFIX),
        audience=sp.acs_url,
        expires_at=min(d for d in (confirmed_until, conditions_until) if d is not None),
        message_id=assertion_id,
        authenticated_at=authn.instant,
        session_not_on_or_after=authn.session_not_on_or_after,
        name_qualifier=name_qualifier(entity_id, provider.arn),
        mfa=any(marker in ref.lower() for ref in authn.class_refs for marker in MFA_MARKERS),
        amr=authn.class_refs,
        groups=read_groups(assertion),
        attributes=attributes,
    )


def _required(parent: Element, name: str, where: str) -> Element:
    return one(parent, _a(name), where=where)


def _name_id(subject: Element) -> Element:
    if children(subject, _a("EncryptedID")):
        raise InvalidSAMLResponse("Assertion/Subject/EncryptedID: not supported, send a NameID")
    name_id = _required(subject, "NameID", "Assertion/Subject")
    if not text_of(name_id, where="Assertion/Subject/NameID"):
        raise InvalidSAMLResponse("Assertion/Subject/NameID: empty")
    return name_id


def name_qualifier(issuer: str, provider_arn: str) -> str:
    """Base64(SHA1(Issuer + AccountId + "/" + ProviderName)), as STS reports it."""
    account = provider_arn.split(":")[4]
    name = provider_arn.rsplit("saml-provider/", 1)[-1]
    digest = hashlib.sha1(f"{issuer}{account}/{name}".encode(), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode("ascii")


def _bearer_confirmation(subject: Element, sp: SPConfig, rules: _Rules) -> datetime:
    """NotOnOrAfter of the first bearer confirmation that passes (profiles 4.1.4.2)."""
    bearers = [
        c for c in children(subject, _a("SubjectConfirmation")) if c.get("Method") == SCM_BEARER
    ]
    if not bearers:
        raise InvalidSAMLResponse(
            f"Assertion/Subject/SubjectConfirmation: no confirmation with Method `{SCM_BEARER}`"
        )
    failures: list[InvalidSAMLResponse | ExpiredSAMLResponse] = []
    for bearer in bearers:
        try:
            return _check_bearer(bearer, sp, rules)
        except (InvalidSAMLResponse, ExpiredSAMLResponse) as exc:
            failures.append(exc)
    raise failures[0]


def _check_bearer(confirmation: Element, sp: SPConfig, rules: _Rules) -> datetime:
    where = "Assertion/Subject/SubjectConfirmation/SubjectConfirmationData"
    data = one(confirmation, _a("SubjectConfirmationData"), where=where.rsplit("/", 1)[0])
    _expect(data.get("Recipient"), sp.acs_url, f"{where}@Recipient")
    until = optional_datetime(data, "NotOnOrAfter", where=where)
    if until is None:
        raise InvalidSAMLResponse(f"{where}@NotOnOrAfter: missing")
    not_before = optional_datetime(data, "NotBefore", where=where)
    check_window(where, not_before, until, now=rules.now, skew=rules.skew)
    _check_in_response_to(data.get("InResponseTo"), f"{where}@InResponseTo", rules)
    return until


def _check_conditions(assertion: Element, sp: SPConfig, rules: _Rules) -> datetime | None:
    conditions = _required(assertion, "Conditions", "Assertion")
    where = "Assertion/Conditions"
    until = optional_datetime(conditions, "NotOnOrAfter", where=where)
    not_before = optional_datetime(conditions, "NotBefore", where=where)
    check_window(where, not_before, until, now=rules.now, skew=rules.skew)
    restrictions = children(conditions, _a("AudienceRestriction"))
    if not restrictions:
        raise InvalidSAMLResponse(
            f"{where}/AudienceRestriction: missing, expected `{sp.entity_id}`"
        )
    for restriction in restrictions:
        audiences = [
            text_of(a, where=f"{where}/AudienceRestriction/Audience")
            for a in children(restriction, _a("Audience"))
        ]
        if sp.entity_id not in audiences:
            seen = ", ".join(f"`{a}`" for a in audiences) or "nothing"
            raise InvalidSAMLResponse(
                f"{where}/AudienceRestriction/Audience: expected `{sp.entity_id}`, saw {seen}"
            )
    return until
