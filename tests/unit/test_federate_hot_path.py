"""The federation path once warm: no directory read reaches the store, one one-time-use
key per assertion, and a directory write here is honoured by the very next call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import PURPOSES
from bridge.directory.service import Directory
from bridge.errors import AccessDenied
from bridge.federate import FederatedSession
from bridge.services import Services, build_services
from bridge.sessions import SessionOptions
from bridge.settings import load_settings
from bridge.storage.memory import MemoryStore
from bridge.verify.errors import InvalidIdentityToken
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
DEV = f"arn:aws:iam::{ACCOUNT}:role/dev"


def _trust(effect: str) -> str:
    statement = {
        "Effect": effect,
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithSAML",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    overrides: dict[str, Any] = {"account_id": ACCOUNT, "base_url": "https://bridge.example.test"}
    settings = load_settings(tmp_path, environ={}, overrides=overrides)
    clock = FixedClock(NOW)
    built = build_services(
        settings,
        clock=clock,
        rng=SystemRandom(),
        store=MemoryStore(clock=clock),
        master_key=bytes(32),
    )
    for purpose in PURPOSES:
        built.key_ring.ensure(purpose)
    built.directory.roles.create("dev", _trust("Allow"))
    built.directory.saml_providers.create("TestIdP", build_metadata(keypair("idp")))
    yield built
    built.close()


def _response(assertion_id: str) -> str:
    spec = AssertionSpec(
        assertion_id=assertion_id,
        attributes=(
            (ATTR + "Role", None, (f"{DEV},{PROVIDER_ARN}",)),
            (ATTR + "RoleSessionName", None, ("alice",)),
        ),
    )
    return to_b64(build_response(sign(build_assertion(spec), keypair("idp")), now=spec.now))


def _assume(services: Services, assertion_id: str) -> FederatedSession:
    options = SessionOptions(role_arn=DEV)
    return services.federation.with_saml(_response(assertion_id), PROVIDER_ARN, options)


def _spy(name: str, real: Callable[..., Any], calls: list[str]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    return counted


def test_a_warm_call_reads_no_record_and_uses_the_assertion_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _assume(services, "_warm-up")
    store = services.store
    calls: list[str] = []
    monkeypatch.setattr(store, "transaction", _spy("transaction", store.transaction, calls))
    monkeypatch.setattr(store, "use_once", _spy("use_once", store.use_once, calls))
    session = _assume(services, "_hot")
    assert session.assumed_role_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
    assert calls == ["use_once"]


def _deny_trust(directory: Directory) -> None:
    directory.roles.update_trust_policy("dev", _trust("Deny"))


def _delete_role(directory: Directory) -> None:
    directory.roles.delete("dev")


def _delete_provider(directory: Directory) -> None:
    directory.saml_providers.delete(PROVIDER_ARN)


WRITES = [
    pytest.param(_deny_trust, AccessDenied, "Not authorized", id="trust-policy-denies"),
    pytest.param(_delete_role, AccessDenied, "Not authorized", id="role-deleted"),
    pytest.param(
        _delete_provider, InvalidIdentityToken, "is not registered", id="provider-deleted"
    ),
]


@pytest.mark.parametrize(("write", "error", "fragment"), WRITES)
def test_a_write_here_is_honoured_by_the_next_call(
    services: Services,
    write: Callable[[Directory], None],
    error: type[Exception],
    fragment: str,
) -> None:
    _assume(services, "_before")
    write(services.directory)
    with pytest.raises(error, match=fragment):
        _assume(services, "_after")
