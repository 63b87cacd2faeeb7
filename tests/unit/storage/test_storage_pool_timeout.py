"""A PostgreSQL store whose pool is exhausted answers `StorageUnavailable` within the
connect timeout, not after SQLAlchemy's default 30 s."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from sqlalchemy.exc import OperationalError

from bridge.clock import FixedClock
from bridge.errors import StorageUnavailable
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OVERFLOW = 10  # SQLAlchemy's default max_overflow


@pytest.mark.postgres
@pytest.mark.parametrize("timeout", [pytest.param(1.0, id="1s"), pytest.param(2.0, id="2s")])
def test_an_exhausted_pool_is_unavailable_within_the_timeout(timeout: float) -> None:
    store = SqlStore(POSTGRES_URL, clock=FixedClock(), pool_size=1, connect_timeout=timeout)
    with ExitStack() as held:
        try:
            for _ in range(1 + OVERFLOW):
                held.enter_context(store.engine.connect())
        except OperationalError as exc:
            service_unavailable("PostgreSQL", str(exc.orig).splitlines()[0])
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as raised:
            store.ping()
        waited = time.monotonic() - started
    store.close()
    assert raised.value.message == "database unavailable: no free pooled connection in time"
    assert timeout <= waited < timeout + 1.0
