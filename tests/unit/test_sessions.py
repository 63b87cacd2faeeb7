"""STS session rules: durations and the AWS SAML attributes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.errors import InvalidInput
from bridge.sessions import SAML_ATTRIBUTE, check_duration, federated_attributes
from bridge.verify.identity import VerifiedIdentity

ROLE = "arn:aws:iam::123456789012:role/dev"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/corp"


@pytest.mark.parametrize(
    ("requested", "maximum", "cap", "not_after", "expected"),
    [
        (None, 3600, None, None, 3600),
        (None, 43200, None, None, 3600),
        (900, 3600, None, None, 900),
        (7200, 7200, None, None, 7200),
        (7200, 7200, 1800, None, 1800),
        (7200, 7200, None, 1000, 1000),
        (None, 3600, 43200, None, 3600),
    ],
    ids=[
        "default",
        "default-below-max",
        "minimum",
        "maximum",
        "saml-attribute-shortens",
        "session-not-on-or-after",
        "attribute-cannot-extend",
    ],
)
def test_duration_rules(
    requested: int | None, maximum: int, cap: int | None, not_after: int | None, expected: int
) -> None:
    assert check_duration(requested, maximum, cap=cap, not_after=not_after) == expected


@pytest.mark.parametrize(
    ("requested", "maximum", "not_after"),
    [(899, 3600, None), (3601, 3600, None), (None, 3600, 600)],
    ids=["below-900", "above-role-maximum", "idp-session-ends-too-soon"],
)
def test_duration_faults(requested: int | None, maximum: int, not_after: int | None) -> None:
    with pytest.raises(InvalidInput):
        check_duration(requested, maximum, not_after=not_after)


def identity(**attributes: tuple[str, ...]) -> VerifiedIdentity:
    return VerifiedIdentity(
        protocol="saml",
        provider_arn=PROVIDER,
        issuer="https://idp",
        subject="alice",
        audience="https://bridge/saml/acs",
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
        message_id="_a",
        attributes={SAML_ATTRIBUTE + name: values for name, values in attributes.items()},
    )


def test_saml_attributes_are_read_in_either_role_order() -> None:
    found = federated_attributes(
        identity(
            Role=(f"{ROLE},{PROVIDER}", f"{PROVIDER},{ROLE}-two", "garbage"),
            RoleSessionName=("alice",),
            SessionDuration=("1800",),
            TransitiveTagKeys=("team",),
            SourceIdentity=("alice@example.com",),
            **{"PrincipalTag:team": ("core",)},
        )
    )
    assert found.role_pairs == {(ROLE, PROVIDER), (ROLE + "-two", PROVIDER)}
    assert found.session_name == "alice"
    assert found.session_duration == 1800
    assert [(t.key, t.value) for t in found.tags] == [("team", "core")]
    assert found.transitive_tag_keys == ("team",)
    assert found.source_identity == "alice@example.com"


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"RoleSessionName": ("a b",)}, "RoleSessionName"),
        ({"RoleSessionName": ("x",)}, "RoleSessionName"),
        ({"SessionDuration": ("60",)}, "SessionDuration"),
        ({"SessionDuration": ("soon",)}, "SessionDuration"),
    ],
    ids=[
        "space-in-session-name",
        "session-name-too-short",
        "duration-too-short",
        "duration-not-a-number",
    ],
)
def test_bad_saml_attributes_name_the_attribute(
    attributes: dict[str, tuple[str, ...]], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        federated_attributes(identity(**attributes))
    assert caught.value.field == field
