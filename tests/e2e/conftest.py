"""The live bridge fixture: `bridge init` + `bridge serve` as real processes, on SQLite and
on a fresh PostgreSQL database, driven with boto3 as any AWS client would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.e2e.idp import LocalIdP, running_idp
from tests.e2e.live import LiveBridge, clean_env, postgres_database, start_bridge


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def bridge(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveBridge]:
    """A live bridge on SQLite, and again on PostgreSQL."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    extra: dict[str, str] = {}
    with ExitStack() as stack:
        if request.param == "postgres":
            extra["BRIDGE_DATABASE_URL"] = stack.enter_context(postgres_database())
        yield from start_bridge(home, clean_env(extra))


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    """A local OpenID provider (discovery, JWKS, RS256 tokens) on loopback."""
    with running_idp() as running:
        yield running
