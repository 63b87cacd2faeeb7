"""Session tokens already opened by this process, so a busy session is not decrypted,
decompressed and parsed again on every request.

Keyed by the SHA-256 of the token: the same bytes always open to the same claims (the
token is authenticated encryption), so a hit is as good as opening it again. Expiry is
checked on every use, by `open_token` itself once a cached token has expired; revocation
is checked by the caller after this, as before. The claims hold the session's secret:
they stay in this process's memory, bounded (LRU), and are never logged.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime

from bridge.credentials.tokens import SessionClaims, TokenSealer, open_token

DEFAULT_SIZE = 4096


class OpenedTokens:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._claims: OrderedDict[bytes, SessionClaims] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._claims)

    def open(self, token: str, key_ring: TokenSealer, *, now: datetime) -> SessionClaims:
        """`open_token`, from this process's memory when the token was opened before."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            claims = self._claims.get(digest)
            if claims is not None and now < claims.expires_at:
                self._claims.move_to_end(digest)
                return claims
            self._claims.pop(digest, None)
        claims = open_token(token, key_ring, now=now)  # raises when expired or invalid
        with self._lock:
            self._claims[digest] = claims
            while len(self._claims) > self._size:
                self._claims.popitem(last=False)
        return claims
