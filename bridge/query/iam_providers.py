"""IAM SAML and OpenID Connect providers.

The directory checks the documents and urls (SAML metadata 2.3.2 and 2.4.3 with a
hardened parser, OIDC Discovery 2 for the issuer url); here its field names become
the AWS parameter names, so an `InvalidInput` names what the caller sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bridge.directory import ids
from bridge.errors import InvalidInput
from bridge.query.iam import IAM, TAGS, arn_field, tags_shape
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.storage.interfaces import OIDCProvider, SAMLProvider

SAML_ARN = arn_field("SAMLProviderArn")
OIDC_ARN = arn_field("OpenIDConnectProviderArn")
METADATA_MIN, METADATA_MAX = 1000, 10_000_000
CLIENT_ID = Field("ClientID", required=True, min_len=1, max_len=255)
CLIENT_IDS = Field("ClientIDList", kind="list", min_len=1, max_len=255, default=[])
THUMBPRINTS = Field("ThumbprintList", kind="list", min_len=40, max_len=40, default=[])
SAML_NAMES = {"saml_metadata_document": "SAMLMetadataDocument", "name": "Name", "tags": "Tags"}
OIDC_NAMES = {
    "url": "Url",
    "client_ids": "ClientIDList",
    "client_id": "ClientID",
    "thumbprints": "ThumbprintList",
    "tags": "Tags",
}


@contextmanager
def aws_field_names(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise the directory's `InvalidInput` with the AWS parameter its field came from."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidInput(_renamed(error.field, names), error.detail) from None


def _renamed(field: str, names: Mapping[str, str]) -> str:
    """`client_ids[2]` → `ClientIDList[2]`; a field with no AWS name stays as it is."""
    for ours, theirs in sorted(names.items(), key=lambda item: -len(item[0])):
        if field == ours or field.startswith((ours + ".", ours + "[")):
            return theirs + field[len(ours) :]
    return field


# --- SAML providers ------------------------------------------------------------


def saml_arn(ctx: ActionContext, p: Params) -> str:
    """The provider named by ARN, or for a create the ARN it will have."""
    return str(p.get("SAMLProviderArn") or ids.saml_provider_arn(ctx.account_id, p["Name"]))


def all_saml_providers(ctx: ActionContext, _p: Params) -> str:
    return f"arn:aws:iam::{ctx.account_id}:saml-provider/*"


def _refuse_encryption(p: Params) -> None:
    """Encrypted assertions need a private key store this bridge does not have."""
    if p.get("AddPrivateKey") is not None:
        raise InvalidInput("AddPrivateKey", "assertion decryption keys are not supported")
    if p.get("AssertionEncryptionMode") == "Required":
        raise InvalidInput("AssertionEncryptionMode", "`Required` is not supported; use `Allowed`")


ENCRYPTION_FIELDS = (
    Field("AssertionEncryptionMode", choices=("Required", "Allowed")),
    Field("AddPrivateKey", min_len=1, max_len=16384, pattern=r"[\u0009\u000A\u000D\u0020-\u00FF]+"),
)


@IAM.action(
    "CreateSAMLProvider",
    Field("SAMLMetadataDocument", required=True, min_len=METADATA_MIN, max_len=METADATA_MAX),
    Field("Name", required=True, min_len=1, max_len=128, pattern=r"[\w._-]+"),
    TAGS,
    *ENCRYPTION_FIELDS,
    resource=saml_arn,
)
def create_saml_provider(ctx: ActionContext, p: Params) -> Result:
    _refuse_encryption(p)
    with aws_field_names(SAML_NAMES):
        provider = ctx.directory.saml_providers.create(
            p["Name"], p["SAMLMetadataDocument"], tags=p["Tags"]
        )
    return {"SAMLProviderArn": provider.arn, "Tags": tags_shape(provider.tags) or None}


@IAM.action("GetSAMLProvider", SAML_ARN, resource=saml_arn)
def get_saml_provider(ctx: ActionContext, p: Params) -> Result:
    provider = ctx.directory.saml_providers.get(p["SAMLProviderArn"])
    return {
        "SAMLMetadataDocument": provider.metadata_document,
        "CreateDate": provider.created_at,
        "ValidUntil": provider.valid_until,
        "Tags": tags_shape(provider.tags) or None,
    }


@IAM.action(
    "UpdateSAMLProvider",
    SAML_ARN,
    Field("SAMLMetadataDocument", min_len=METADATA_MIN, max_len=METADATA_MAX),
    *ENCRYPTION_FIELDS,
    resource=saml_arn,
)
def update_saml_provider(ctx: ActionContext, p: Params) -> Result:
    _refuse_encryption(p)
    arn = p["SAMLProviderArn"]
    with aws_field_names(SAML_NAMES):
        if p["SAMLMetadataDocument"] is None:
            ctx.directory.saml_providers.get(arn)  # NoSuchEntity for an unknown provider
        else:
            ctx.directory.saml_providers.update(arn, p["SAMLMetadataDocument"])
    return {"SAMLProviderArn": arn}


@IAM.action("DeleteSAMLProvider", SAML_ARN, resource=saml_arn, has_output=False)
def delete_saml_provider(ctx: ActionContext, p: Params) -> None:
    ctx.directory.saml_providers.delete(p["SAMLProviderArn"])


@IAM.action("ListSAMLProviders", resource=all_saml_providers)
def list_saml_providers(ctx: ActionContext, _p: Params) -> Result:
    """Unpaginated, as IAM."""
    providers = ctx.directory.saml_providers.list()
    return {"SAMLProviderList": [_saml_entry(provider) for provider in providers]}


def _saml_entry(provider: SAMLProvider) -> dict[str, Any]:
    return {
        "Arn": provider.arn,
        "ValidUntil": provider.valid_until,
        "CreateDate": provider.created_at,
    }


# --- OpenID Connect providers --------------------------------------------------


def oidc_arn(ctx: ActionContext, p: Params) -> str:
    """The provider named by ARN, or for a create the ARN its url gives."""
    arn = p.get("OpenIDConnectProviderArn")
    return str(arn or ids.oidc_provider_arn(ctx.account_id, p["Url"]))


def all_oidc_providers(ctx: ActionContext, _p: Params) -> str:
    return f"arn:aws:iam::{ctx.account_id}:oidc-provider/*"


@IAM.action(
    "CreateOpenIDConnectProvider",
    Field("Url", required=True, min_len=1, max_len=255),
    CLIENT_IDS,
    THUMBPRINTS,
    TAGS,
    resource=oidc_arn,
)
def create_oidc_provider(ctx: ActionContext, p: Params) -> Result:
    with aws_field_names(OIDC_NAMES):
        provider = ctx.directory.oidc_providers.create(
            p["Url"], client_ids=p["ClientIDList"], thumbprints=p["ThumbprintList"], tags=p["Tags"]
        )
    return {"OpenIDConnectProviderArn": provider.arn, "Tags": tags_shape(provider.tags) or None}


@IAM.action("GetOpenIDConnectProvider", OIDC_ARN, resource=oidc_arn)
def get_oidc_provider(ctx: ActionContext, p: Params) -> Result:
    return _oidc_shape(ctx.directory.oidc_providers.get(p["OpenIDConnectProviderArn"]))


def _oidc_shape(provider: OIDCProvider) -> dict[str, Any]:
    """IAM shows the url without its scheme (`server.example.com/path`)."""
    return {
        "Url": provider.url.removeprefix("https://"),
        "ClientIDList": list(provider.client_ids),
        "ThumbprintList": list(provider.thumbprints),
        "CreateDate": provider.created_at,
        "Tags": tags_shape(provider.tags) or None,
    }


@IAM.action("DeleteOpenIDConnectProvider", OIDC_ARN, resource=oidc_arn, has_output=False)
def delete_oidc_provider(ctx: ActionContext, p: Params) -> None:
    ctx.directory.oidc_providers.delete(p["OpenIDConnectProviderArn"])


@IAM.action("ListOpenIDConnectProviders", resource=all_oidc_providers)
def list_oidc_providers(ctx: ActionContext, _p: Params) -> Result:
    """Unpaginated, as IAM."""
    providers = ctx.directory.oidc_providers.list()
    return {"OpenIDConnectProviderList": [{"Arn": provider.arn} for provider in providers]}


@IAM.action(
    "AddClientIDToOpenIDConnectProvider",
    OIDC_ARN,
    CLIENT_ID,
    resource=oidc_arn,
    has_output=False,
)
def add_client_id(ctx: ActionContext, p: Params) -> None:
    with aws_field_names(OIDC_NAMES):
        ctx.directory.oidc_providers.add_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])


@IAM.action(
    "RemoveClientIDFromOpenIDConnectProvider",
    OIDC_ARN,
    CLIENT_ID,
    resource=oidc_arn,
    has_output=False,
)
def remove_client_id(ctx: ActionContext, p: Params) -> None:
    ctx.directory.oidc_providers.remove_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])


@IAM.action(
    "UpdateOpenIDConnectProviderThumbprint",
    OIDC_ARN,
    Field("ThumbprintList", kind="list", required=True, min_len=40, max_len=40),
    resource=oidc_arn,
    has_output=False,
)
def update_oidc_thumbprints(ctx: ActionContext, p: Params) -> None:
    with aws_field_names(OIDC_NAMES):
        ctx.directory.oidc_providers.update_thumbprints(
            p["OpenIDConnectProviderArn"], p["ThumbprintList"]
        )
