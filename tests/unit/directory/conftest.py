"""Fixtures of the directory tests: a memory store, a pinned clock, seeded randomness,
a real AES-GCM sealer and cheap argon2 parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from directory_support import ACCOUNT, CHEAP_HASHING, AesGcmSealer, SeededRandom, take_snapshot

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.storage.memory import MemoryStore


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def store(clock: FixedClock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def sealer() -> AesGcmSealer:
    return AesGcmSealer(bytes(range(32)))


@pytest.fixture
def directory(store: MemoryStore, clock: FixedClock, sealer: AesGcmSealer) -> Directory:
    return Directory(
        store,
        account_id=ACCOUNT,
        sealer=sealer,
        clock=clock,
        rng=SeededRandom(),
        hasher=CHEAP_HASHING,
    )


@pytest.fixture
def snapshot(store: MemoryStore) -> Callable[[], dict[str, Any]]:
    return lambda: take_snapshot(store)
