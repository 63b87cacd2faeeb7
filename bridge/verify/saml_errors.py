"""Domain errors of the SAML verifier (no HTTP, no AWS codes: the edges map them).

`InvalidSAMLResponse` covers every structural, signature and addressing fault;
`ExpiredSAMLResponse` covers the time-window checks and carries the skew measured;
`InvalidSAMLMetadata` is raised while reading a provider's metadata document (the
directory may show it as a validation error, the verifier wraps it).
"""

from __future__ import annotations

from datetime import timedelta

from bridge.errors import ClientFault


class InvalidSAMLResponse(ClientFault):
    """The SAML response is malformed, unsigned, forged or addressed to someone else."""


class ExpiredSAMLResponse(ClientFault):
    """A NotBefore/NotOnOrAfter window was missed. `skew` is how far outside it now is."""

    def __init__(self, message: str, skew: timedelta) -> None:
        super().__init__(message)
        self.skew = skew


class InvalidSAMLMetadata(ClientFault):
    """An IdP metadata document cannot be used (malformed, no signing key, expired)."""


class UnsafeXML(ClientFault):
    """A document breaks the hardened-parsing rules (DOCTYPE, size, encoding, syntax, ids)."""
