"""What only the memory store does: one transaction at a time, refusing nesting."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from bridge.clock import FixedClock
from bridge.storage.interfaces import User
from bridge.storage.memory import MemoryStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_nested_transaction_is_refused_and_the_outer_one_rolls_back() -> None:
    store = MemoryStore(clock=FixedClock())
    with pytest.raises(RuntimeError, match="nested"):
        _add_then_nest(store)
    with store.transaction() as uow:
        assert uow.users.list() == []


def _add_then_nest(store: MemoryStore) -> None:
    with store.transaction() as uow:
        uow.users.add(User("AIDA1", "alice", "/", T0))
        with store.transaction():
            pass


def test_transactions_from_two_threads_do_not_interleave() -> None:
    store = MemoryStore(clock=FixedClock())
    seen: list[list[str]] = []

    def reader() -> None:
        with store.transaction() as uow:
            seen.append([u.name for u in uow.users.list()])

    with store.transaction() as uow:
        uow.users.add(User("AIDA1", "alice", "/", T0))
        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(0.1)
        uow.users.add(User("AIDA2", "bob", "/", T0))
    thread.join(timeout=10)
    assert seen == [["alice", "bob"]]


def test_use_once_inside_a_transaction_does_not_deadlock() -> None:
    clock = FixedClock()
    store = MemoryStore(clock=clock)
    with store.transaction():
        assert store.use_once("k", clock.now().replace(year=2030)) is True
    assert store.use_once("k", clock.now().replace(year=2030)) is False
