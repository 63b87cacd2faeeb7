"""Mapping in the federation path: STS calls must request a mapping candidate when rules
exist for the provider (the trace reaches the audit event), and the browser path offers
only candidates that the trust policy accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.app import create_app
from bridge.audit import MemorySink
from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import PURPOSES
from bridge.federate_mapping import MappingRefused, provider_names
from bridge.services import Services, build_services
from bridge.sessions import SessionOptions
from bridge.settings import load_settings
from bridge.storage.memory import MemoryStore
from bridge.verify.identity import identity_from_json, identity_to_json
from tests.data.saml.gen import (
    NOW,
    PROVIDER_ARN,
    AssertionSpec,
    build_assertion,
    build_metadata,
    build_response,
    keypair,
    sign,
    to_b64,
)

ACCOUNT = "123456789012"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
DEV, OPS = f"arn:aws:iam::{ACCOUNT}:role/dev", f"arn:aws:iam::{ACCOUNT}:role/ops"
RULES = {
    "rules": [
        {
            "id": "staff",
            "providers": ["corp"],
            "when": {"claim": "groups", "contains": "staff"},
            "roles": ["dev"],
        },
    ]
}
LOGIN = {"corp": {"protocol": "saml", "display_name": "Corp", "saml_provider": "TestIdP"}}


def _services(home: Path, mapping: dict[str, Any] | None) -> Iterator[Services]:
    overrides: dict[str, Any] = {
        "account_id": ACCOUNT,
        "base_url": "https://bridge.example.test",
        "login_providers": LOGIN,
    }
    if mapping is not None:
        overrides["mapping"] = mapping
    settings = load_settings(home, environ={}, overrides=overrides)
    clock = FixedClock(NOW)
    services = build_services(
        settings,
        clock=clock,
        rng=SystemRandom(),
        store=MemoryStore(clock=clock),
        master_key=bytes(32),
    )
    for purpose in PURPOSES:
        services.key_ring.ensure(purpose)
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithSAML",
    }
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    services.directory.roles.create("dev", trust)
    services.directory.roles.create("ops", trust)
    services.directory.saml_providers.create("TestIdP", build_metadata(keypair("idp")))
    yield services
    services.close()


@pytest.fixture
def mapped(tmp_path: Path) -> Iterator[Services]:
    yield from _services(tmp_path, RULES)


def _response(assertion_id: str = "_a1", groups: tuple[str, ...] = ("staff",)) -> str:
    pairs = tuple(f"{role},{PROVIDER_ARN}" for role in (DEV, OPS))
    spec = AssertionSpec(
        assertion_id=assertion_id,
        attributes=(
            (ATTR + "Role", None, pairs),
            (ATTR + "RoleSessionName", None, ("alice",)),
            ("groups", None, groups),
        ),
    )
    return to_b64(build_response(sign(build_assertion(spec), keypair("idp")), now=spec.now))


@pytest.mark.parametrize(
    ("mapping", "role", "allowed"),
    [
        pytest.param(RULES, DEV, True, id="candidate-role"),
        pytest.param(RULES, OPS, False, id="role-no-rule-proposes"),
        pytest.param(None, OPS, True, id="no-rules-trust-alone-decides"),
        pytest.param(
            {
                "rules": [
                    {
                        "id": "x",
                        "providers": ["elsewhere"],
                        "when": {"claim": "sub", "present": True},
                        "roles": ["dev"],
                    }
                ]
            },
            OPS,
            True,
            id="rules-for-another-provider-only",
        ),
    ],
)
def test_sts_saml_requires_a_candidate_when_rules_exist(
    tmp_path: Path, mapping: dict[str, Any] | None, role: str, allowed: bool
) -> None:
    services = next(_services(tmp_path, mapping))
    federation = services.federation
    options = SessionOptions(role_arn=role)
    if allowed:
        session = federation.with_saml(_response(), PROVIDER_ARN, options)
        assert session.role_arn == role
        assert (session.trace is not None) is (mapping is RULES)
    else:
        with pytest.raises(MappingRefused) as caught:
            federation.with_saml(_response(), PROVIDER_ARN, options)
        assert "no mapping rule for provider `corp` proposes this role" in caught.value.message
        assert caught.value.trace.to_dict()["candidates"] == ["dev"]


def test_sts_audit_event_carries_the_trace(mapped: Services) -> None:
    sink = MemorySink()
    mapped.audit._sinks = (*mapped.audit._sinks, sink)
    client = create_app(services=mapped).test_client()
    for role, status in ((DEV, 200), (OPS, 403)):
        body = {
            "Action": "AssumeRoleWithSAML",
            "Version": "2011-06-15",
            "RoleArn": role,
            "PrincipalArn": PROVIDER_ARN,
            "SAMLAssertion": _response(assertion_id=f"_a-{role[-3:]}"),
        }
        assert client.post("/", data=body).status_code == status
    success, failure = [e for e in sink.events if e.event_name == "AssumeRoleWithSAML"]
    assert success.result == "success" and success.details["mapping"]["granted"] == [DEV]
    assert failure.result == "failure" and failure.details["mapping"]["candidates"] == ["dev"]


def test_browser_candidates_add_role_attribute_pairs_and_check_trust(mapped: Services) -> None:
    identity = mapped.federation.saml_verifier.verify(
        _response(), mapped.directory.saml_providers.get(PROVIDER_ARN)
    )
    choices, trace = mapped.federation.browser_candidates(identity, "corp")
    assert [(c.role_arn, c.rule_id) for c in choices] == [(DEV, "staff"), (OPS, "saml:Role")]
    assert trace.accepted == (DEV, OPS)


def test_browser_session_from_the_json_identity(mapped: Services) -> None:
    identity = mapped.federation.saml_verifier.verify(
        _response(groups=()), mapped.directory.saml_providers.get(PROVIDER_ARN)
    )
    stored = json.loads(json.dumps(identity_to_json(identity)))
    assert identity_from_json(stored) == identity
    session = mapped.federation.browser_session(stored, "corp", OPS)
    assert session.assumed_role_arn.endswith(":assumed-role/ops/alice")
    with pytest.raises(MappingRefused):
        mapped.federation.browser_session(stored, "corp", f"arn:aws:iam::{ACCOUNT}:role/none")


def test_browser_sign_in_is_one_time(mapped: Services) -> None:
    identity = mapped.federation.saml_verifier.verify(
        _response(), mapped.directory.saml_providers.get(PROVIDER_ARN)
    )
    mapped.federation.use_browser_sign_in(identity)
    with pytest.raises(Exception, match="already used to sign in"):
        mapped.federation.use_browser_sign_in(identity)


def test_provider_names_for_mapping(mapped: Services) -> None:
    identity = mapped.federation.saml_verifier.verify(
        _response(), mapped.directory.saml_providers.get(PROVIDER_ARN)
    )
    assert provider_names(identity, mapped.settings.login_providers) == ["corp"]
    assert provider_names(identity, {}) == ["TestIdP"]
