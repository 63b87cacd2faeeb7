"""Claims from saved files (Okta, Entra ID, ADFS shapes) and from a verified identity."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.errors import InvalidInput
from bridge.mapping.claims import claims_from_identity, claims_from_json, provider_of
from bridge.mapping.templates import MissingValue, TemplateError, parse_template
from bridge.verify.identity import VerifiedIdentity

DATA = Path(__file__).resolve().parents[2] / "data" / "mapping"


def load(name: str) -> object:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_okta_claims() -> None:
    raw = load("okta_alice.json")
    claims = claims_from_json(raw)
    assert provider_of(raw) == "corp-okta"
    assert "provider" not in claims.values
    assert claims.subject == "00u1a2b3c4D5e6F7g8h9"
    assert claims.issuer == "https://corp.okta.example/oauth2/default"
    assert claims.groups == ("Everyone", "staff", "admins", "team-payments", "team-search")
    assert claims.get("email_verified") == ("true",)
    assert claims.get("amr") == ("pwd", "mfa")


def test_entra_claims_groups_are_guids_and_overage_is_noted() -> None:
    dana = claims_from_json(load("entra_dana.json"))
    assert dana.groups[0] == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert dana.get("roles") == ("Bridge.Admin",) and not dana.groups_overage
    evan = claims_from_json(load("entra_evan_overage.json"))
    assert evan.groups == () and evan.groups_overage


def test_adfs_claims_keep_their_uris() -> None:
    claims = claims_from_json(load("adfs_frank.json"))
    role = claims.get("http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
    assert role == ("Domain Users", "AWS-Admins", "AWS-Team-billing")
    assert claims.groups == ()


def test_saml_group_attributes_become_groups() -> None:
    uri = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
    claims = claims_from_json({uri: ["a", "b"], "memberOf": "b", "groups": "c"})
    assert set(claims.groups) == {"a", "b", "c"}


@pytest.mark.parametrize("raw", [[], "x", None], ids=["list", "string", "null"])
def test_claims_file_must_be_an_object(raw: object) -> None:
    with pytest.raises(InvalidInput, match="expected a JSON object"):
        claims_from_json(raw, "f.json")


def test_claims_from_identity() -> None:
    identity = VerifiedIdentity(
        protocol="saml",
        provider_arn="arn:aws:iam::123456789012:saml-provider/corp",
        issuer="https://idp",
        subject="alice",
        audience="https://bridge/saml/acs",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        message_id="id1",
        amr=("mfa",),
        groups=("staff",),
        attributes={"mail": ("a@x",), "_claim_names": ('{"groups":"src1"}',)},
    )
    claims = claims_from_identity(identity)
    assert (claims.subject, claims.issuer, claims.groups) == ("alice", "https://idp", ("staff",))
    assert claims.get("mail") == ("a@x",) and claims.get("amr") == ("mfa",)
    assert claims.groups_overage


def test_missing_groups_claim_is_empty() -> None:
    assert claims_from_json({"sub": "x"}).groups == ()


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        pytest.param("{email}", "a@x", id="claim"),
        pytest.param("$1-developer", "team-developer", id="capture"),
        pytest.param("${2}x", "2x", id="braced-capture"),
        pytest.param("cost$$", "cost$", id="dollar"),
        pytest.param(
            "{ http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn }", "u@x", id="uri-claim"
        ),
        pytest.param("plain", "plain", id="text"),
    ],
)
def test_template_render(source: str, rendered: str) -> None:
    claims = claims_from_json(
        {
            "email": ["a@x", "b@x"],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "u@x",
        }
    )
    assert parse_template(source).render(claims, ("team", "2")) == rendered


@pytest.mark.parametrize(
    "source", ["{", "}", "a$b", "$0", "{}"], ids=["open", "close", "dollar", "zero", "empty"]
)
def test_template_errors(source: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(source)


def test_template_missing_value() -> None:
    with pytest.raises(MissingValue) as caught:
        parse_template("{email}-$1").render(claims_from_json({}), ())
    assert caught.value.what == "claim `email`"
    with pytest.raises(MissingValue, match=r"capture `\$2`"):
        parse_template("$2").render(claims_from_json({}), ("a",))
