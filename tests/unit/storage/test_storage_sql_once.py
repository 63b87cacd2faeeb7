"""SQL one-time keys: expired rows are purged, live ones stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bridge.clock import FixedClock
from bridge.storage import migrate
from bridge.storage.sql import SqlStore


@pytest.mark.parametrize(
    ("lifetimes", "waited", "purged", "reusable"),
    [
        ([10, 20, 30], 5, 0, []),
        ([10, 20, 30], 20, 2, ["k0", "k1"]),
        ([10, 20, 30], 31, 3, ["k0", "k1", "k2"]),
    ],
    ids=["none-expired", "some-expired", "all-expired"],
)
def test_purge_expired_deletes_only_expired_keys(
    tmp_path: Path, lifetimes: list[int], waited: int, purged: int, reusable: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'once.db'}"
    migrate.upgrade(url)
    clock = FixedClock()
    store = SqlStore(url, clock=clock)
    try:
        for n, seconds in enumerate(lifetimes):
            store.use_once(f"k{n}", clock.now() + timedelta(seconds=seconds))
        clock.advance(waited)
        assert store.purge_expired() == purged
        later = clock.now() + timedelta(hours=1)
        again = [f"k{n}" for n in range(len(lifetimes)) if store.use_once(f"k{n}", later)]
    finally:
        store.close()
    assert again == reusable
