"""Errors of the token verifiers (no HTTP, no AWS codes: `query/errors.py` maps them).

STS answers `InvalidIdentityToken`, `ExpiredTokenException` and `IDPCommunicationError`
for these (contract §3.2). Messages are safe to show the caller and never carry key
material: they say what was expected, what was seen, and for time checks the skew.
"""

from __future__ import annotations

from bridge.errors import ClientFault


class InvalidIdentityToken(ClientFault):
    """Bad signature, algorithm, issuer, audience, missing claim, malformed or oversized."""


class ExpiredIdentityToken(ClientFault):
    """The token's `exp` has passed, beyond the allowed clock skew."""


class IdPCommunicationError(ClientFault):
    """The provider's discovery document or JWKS could not be fetched or used."""
