"""The condition keys a role's trust policy sees for a federated or AssumeRole request.

SAML keys (contract §3.1): `saml:aud` is the Recipient (this bridge's ACS URL),
`saml:iss`, `saml:sub`, `saml:sub_type`, `saml:namequalifier`, `saml:doc`, and
attribute keys fed from well-known attribute names (eduPerson OIDs, X.500 OIDs, the
AD claim URIs and their friendly names). OIDC keys (§3.2) are prefixed with the
provider's URL minus `https://`: `<prov>:aud`, `<prov>:sub`, `<prov>:amr`, `<prov>:azp`.
Request keys: `sts:*`, `aws:RequestTag/*`, `aws:TagKeys`, `aws:SourceIdentity`,
`aws:PrincipalTag/*`, `aws:SourceIp`, `aws:CurrentTime`, `aws:EpochTime`,
`aws:MultiFactorAuthPresent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bridge.verify.identity import VerifiedIdentity

EDUPERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."
EDUORG = "urn:oid:1.3.6.1.4.1.5923.1.2.1."
AD_CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"

# attribute Name (OID or claim URI) → saml: key; friendly names map to themselves
_OID_KEYS: dict[str, str] = {
    EDUPERSON + "1": "edupersonaffiliation",
    EDUPERSON + "2": "edupersonnickname",
    EDUPERSON + "3": "edupersonorgdn",
    EDUPERSON + "4": "edupersonorgunitdn",
    EDUPERSON + "5": "edupersonprimaryaffiliation",
    EDUPERSON + "6": "edupersonprincipalname",
    EDUPERSON + "7": "edupersonentitlement",
    EDUPERSON + "8": "edupersonprimaryorgunitdn",
    EDUPERSON + "9": "edupersonscopedaffiliation",
    EDUPERSON + "10": "edupersontargetedid",
    EDUPERSON + "11": "edupersonassurance",
    EDUORG + "2": "eduorghomepageuri",
    EDUORG + "3": "eduorgidentityauthnpolicyuri",
    EDUORG + "4": "eduorglegalname",
    EDUORG + "5": "eduorgsuperioruri",
    EDUORG + "6": "eduorgwhitepagesuri",
    "urn:oid:2.5.4.3": "cn",
    "urn:oid:2.5.4.4": "surname",
    "urn:oid:2.5.4.42": "givenName",
    "urn:oid:0.9.2342.19200300.100.1.1": "uid",
    "urn:oid:0.9.2342.19200300.100.1.3": "mail",
    "urn:oid:2.5.4.45": "x500UniqueIdentifier",
    AD_CLAIMS + "emailaddress": "mail",
    AD_CLAIMS + "name": "name",
    AD_CLAIMS + "givenname": "givenName",
    AD_CLAIMS + "surname": "surname",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid": "primaryGroupSID",
}
FRIENDLY_KEYS = [
    "edupersonaffiliation",
    "edupersonnickname",
    "edupersonorgdn",
    "edupersonorgunitdn",
    "edupersonprimaryaffiliation",
    "edupersonprincipalname",
    "edupersonentitlement",
    "edupersonprimaryorgunitdn",
    "edupersonscopedaffiliation",
    "edupersontargetedid",
    "edupersonassurance",
    "cn",
    "commonname",
    "givenname",
    "surname",
    "mail",
    "name",
    "uid",
    "organizationstatus",
    "primarygroupsid",
    "x500uniqueidentifier",
]
SAML_ATTRIBUTE_KEYS = {**{name: name for name in FRIENDLY_KEYS}, **_OID_KEYS}


@dataclass(frozen=True)
class RequestKeys:
    """What the AssumeRole* request itself asks for (session name, tags, ...)."""

    now: datetime
    session_name: str | None = None
    duration_seconds: int | None = None
    source_identity: str | None = None
    external_id: str | None = None
    source_ip: str | None = None
    tags: Sequence[tuple[str, str]] = ()
    transitive_tag_keys: Sequence[str] = ()
    mfa_present: bool | None = None
    principal_tags: Mapping[str, str] = field(default_factory=dict)


def request_context(keys: RequestKeys) -> dict[str, object]:
    context: dict[str, object] = {
        "aws:CurrentTime": keys.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(keys.now.timestamp()),
    }
    optional: dict[str, object | None] = {
        "sts:RoleSessionName": keys.session_name,
        "sts:DurationSeconds": keys.duration_seconds,
        "sts:SourceIdentity": keys.source_identity,
        "aws:SourceIdentity": keys.source_identity,
        "sts:ExternalId": keys.external_id,
        "aws:SourceIp": keys.source_ip,
        "aws:MultiFactorAuthPresent": keys.mfa_present,
    }
    context.update({k: v for k, v in optional.items() if v is not None})
    if keys.tags:
        context["aws:TagKeys"] = [key for key, _ in keys.tags]
        context.update({f"aws:RequestTag/{key}": value for key, value in keys.tags})
    if keys.transitive_tag_keys:
        context["sts:TransitiveTagKeys"] = list(keys.transitive_tag_keys)
    context.update({f"aws:PrincipalTag/{k}": v for k, v in keys.principal_tags.items()})
    return context


def saml_context(
    identity: VerifiedIdentity, provider_name: str, account_id: str
) -> dict[str, object]:
    context: dict[str, object] = {
        "saml:aud": identity.audience,
        "saml:iss": identity.issuer,
        "saml:sub": identity.subject,
        "saml:doc": f"{account_id}/{provider_name}",
    }
    if identity.subject_type:
        context["saml:sub_type"] = identity.subject_type
    if identity.name_qualifier:
        context["saml:namequalifier"] = identity.name_qualifier
    for name, values in identity.attributes.items():
        key = SAML_ATTRIBUTE_KEYS.get(name) or SAML_ATTRIBUTE_KEYS.get(name.lower())
        if key and values:
            context[f"saml:{key}"] = list(values)
    return context


def oidc_context(identity: VerifiedIdentity) -> dict[str, object]:
    prefix = identity.issuer.removeprefix("https://").removeprefix("http://").rstrip("/")
    context: dict[str, object] = {
        f"{prefix}:aud": identity.audience,
        f"{prefix}:sub": identity.subject,
        "aws:FederatedProvider": identity.provider_arn,
    }
    if identity.amr:
        context[f"{prefix}:amr"] = list(identity.amr)
    azp = identity.attribute("azp")
    if azp:
        context[f"{prefix}:azp"] = azp[0]
    return context
