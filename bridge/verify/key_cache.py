"""Imported verification keys by the content of their JWK: a provider's key is parsed
(and its size checked) once while its JWKS stays the same, not once per token.

The cache is keyed by the JWK's canonical JSON, so a rotated or edited key (same
`kid`, other members) is a new entry and is imported, and checked, afresh. Only keys
that imported cleanly are kept; a refused key is refused again on every token.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from bridge.verify.jwks import JWK

K = TypeVar("K")

DEFAULT_SIZE = 256  # far more keys than the registered providers publish


class ImportedKeys(Generic[K]):
    """At most `maxsize` imported keys, least recently used dropped first. Thread-safe:
    two threads missing the same key may both import it; both results are equal."""

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self._maxsize = maxsize
        self._keys: OrderedDict[str, K] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, jwk: JWK, build: Callable[[JWK], K]) -> K:
        """The key `build(jwk)` made for a JWK of the same content, else `build(jwk)` now
        (whatever it raises is raised and nothing is kept)."""
        content = json.dumps(jwk, sort_keys=True, separators=(",", ":"))
        with self._lock:
            found = self._keys.get(content)
            if found is not None:
                self._keys.move_to_end(content)
                return found
        built = build(jwk)
        with self._lock:
            self._keys[content] = built
            while len(self._keys) > self._maxsize:
                self._keys.popitem(last=False)
        return built

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)
