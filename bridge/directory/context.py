"""What every directory service shares: the store, the account and the injected parts."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.clock import Clock, Random
from bridge.directory.passwords import PasswordHashing
from bridge.directory.sealing import Sealer
from bridge.storage.interfaces import Store


@dataclass(frozen=True)
class Context:
    store: Store
    account_id: str
    sealer: Sealer
    clock: Clock
    rng: Random
    passwords: PasswordHashing
