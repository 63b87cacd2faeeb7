"""Trust policies judged with the federation condition keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bridge.errors import AccessDenied
from bridge.policy import Principal
from bridge.storage.interfaces import Role
from bridge.trust.check import TrustRequest, evaluate_trust, require_trust
from bridge.trust.context import RequestKeys, oidc_context, request_context, saml_context
from bridge.verify.identity import VerifiedIdentity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
SAML_PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"
ACS = "https://bridge.example.com/saml/acs"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/dev"


def role(trust: dict[str, object]) -> Role:
    return Role("AROAEXAMPLEEXAMPLE123", "dev", "/", json.dumps(trust), NOW)


def statement(
    action: str | list[str], principal: dict[str, str], condition: dict[str, object]
) -> dict[str, object]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Condition": condition}


SAML_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        statement(
            "sts:AssumeRoleWithSAML",
            {"Federated": SAML_PROVIDER},
            {
                "StringEquals": {"saml:aud": ACS},
                "ForAnyValue:StringEquals": {"saml:edupersonaffiliation": "staff"},
            },
        )
    ],
}

OIDC_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        statement(
            ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
            {"Federated": OIDC_PROVIDER},
            {
                "StringEquals": {"idp.example.com:aud": "bridge"},
                "StringLike": {"idp.example.com:sub": "team-*"},
            },
        )
    ],
}


def saml_identity(affiliations: tuple[str, ...], audience: str = ACS) -> VerifiedIdentity:
    return VerifiedIdentity(
        protocol="saml",
        provider_arn=SAML_PROVIDER,
        issuer="https://idp.corp.example/saml",
        subject="alice@example.com",
        audience=audience,
        expires_at=NOW,
        message_id="_a1",
        subject_type="persistent",
        attributes={
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": affiliations,
            "mail": ("alice@example.com",),
        },
    )


def oidc_identity(subject: str, audience: str = "bridge") -> VerifiedIdentity:
    return VerifiedIdentity(
        protocol="oidc",
        provider_arn=OIDC_PROVIDER,
        issuer="https://idp.example.com",
        subject=subject,
        audience=audience,
        expires_at=NOW,
        message_id="jti-1",
    )


def saml_request(identity: VerifiedIdentity) -> TrustRequest:
    context = {**request_context(RequestKeys(now=NOW)), **saml_context(identity, "corp", ACCOUNT)}
    return TrustRequest(
        "sts:AssumeRoleWithSAML", Principal(arn=SAML_PROVIDER, federated=SAML_PROVIDER), context
    )


def oidc_request(
    identity: VerifiedIdentity, tags: tuple[tuple[str, str], ...] = ()
) -> TrustRequest:
    keys = RequestKeys(now=NOW, tags=tags)
    context = {**request_context(keys), **oidc_context(identity)}
    principal = Principal(arn=OIDC_PROVIDER, federated=OIDC_PROVIDER)
    return TrustRequest("sts:AssumeRoleWithWebIdentity", principal, context, wants_tags=bool(tags))


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        (saml_identity(("member", "staff")), True),
        (saml_identity(("affiliate",)), False),
        (saml_identity(("staff",), audience="https://other.example/saml/acs"), False),
    ],
    ids=["staff-allowed", "affiliate-refused", "wrong-recipient-refused"],
)
def test_saml_trust_uses_saml_keys(identity: VerifiedIdentity, allowed: bool) -> None:
    assert evaluate_trust(role(SAML_TRUST), ROLE_ARN, saml_request(identity)).allowed is allowed


def test_saml_context_maps_oids_and_names() -> None:
    context = saml_context(saml_identity(("staff",)), "corp", ACCOUNT)
    assert context["saml:edupersonaffiliation"] == ["staff"]
    assert context["saml:mail"] == ["alice@example.com"]
    assert context["saml:doc"] == f"{ACCOUNT}/corp"
    assert context["saml:sub_type"] == "persistent"


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        (oidc_identity("team-core"), True),
        (oidc_identity("someone"), False),
        (oidc_identity("team-core", audience="other-client"), False),
    ],
    ids=["matching-sub", "other-sub", "other-audience"],
)
def test_oidc_trust_uses_provider_prefixed_keys(identity: VerifiedIdentity, allowed: bool) -> None:
    assert evaluate_trust(role(OIDC_TRUST), ROLE_ARN, oidc_request(identity)).allowed is allowed


def test_another_provider_is_not_trusted() -> None:
    request = oidc_request(oidc_identity("team-core"))
    other = f"arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example.com"
    forged = TrustRequest(request.action, Principal(arn=other, federated=other), request.context)
    assert not evaluate_trust(role(OIDC_TRUST), ROLE_ARN, forged).allowed


def test_session_tags_need_tag_session() -> None:
    tagged = oidc_request(oidc_identity("team-core"), tags=(("team", "core"),))
    assert evaluate_trust(role(OIDC_TRUST), ROLE_ARN, tagged).allowed
    untagged_only = {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "sts:AssumeRoleWithWebIdentity",
                {"Federated": OIDC_PROVIDER},
                {"StringEquals": {"idp.example.com:aud": "bridge"}},
            )
        ],
    }
    decision = evaluate_trust(role(untagged_only), ROLE_ARN, tagged)
    assert decision.refused_actions() == ["sts:TagSession"]


def test_require_trust_raises_access_denied_naming_the_action() -> None:
    with pytest.raises(AccessDenied, match="Not authorized to perform sts:AssumeRoleWithSAML on"):
        require_trust(role(SAML_TRUST), ROLE_ARN, saml_request(saml_identity(("affiliate",))))


def test_request_keys_become_sts_and_aws_keys() -> None:
    keys = RequestKeys(
        now=NOW,
        session_name="alice",
        duration_seconds=900,
        source_identity="alice",
        tags=(("team", "core"),),
        transitive_tag_keys=("team",),
        mfa_present=True,
    )
    context = request_context(keys)
    assert context["sts:RoleSessionName"] == "alice"
    assert context["aws:RequestTag/team"] == "core"
    assert context["aws:TagKeys"] == ["team"]
    assert context["sts:TransitiveTagKeys"] == ["team"]
    assert context["aws:MultiFactorAuthPresent"] is True
    assert context["aws:CurrentTime"] == "2026-06-01T12:00:00Z"


EDITS = [
    pytest.param(OIDC_TRUST, {**OIDC_TRUST, "Statement": []}, False, id="allow-removed"),
    pytest.param({**OIDC_TRUST, "Statement": []}, OIDC_TRUST, True, id="allow-added"),
]


@pytest.mark.parametrize(("before", "after", "allowed"), EDITS)
def test_an_edited_trust_policy_is_judged_at_once(
    before: dict[str, object], after: dict[str, object], allowed: bool
) -> None:
    """The compiled trust policy is kept by document: the same role with a new document
    is compiled again, never answered from the old one."""
    request = oidc_request(oidc_identity("team-core"))
    assert evaluate_trust(role(before), ROLE_ARN, request).allowed is not allowed
    assert evaluate_trust(role(after), ROLE_ARN, request).allowed is allowed
