"""Errors of the browser sign-in adapters (no HTTP: the login views map them to pages).

Messages are safe to show the person signing in: they say what went wrong and where,
never a secret, a token or a code.
"""

from __future__ import annotations

from bridge.errors import ClientFault, NotFound


class UnknownLoginProvider(NotFound):
    """No login provider of that name is configured."""


class LoginRefused(ClientFault):
    """The sign-in reply cannot be accepted (tampered, replayed, foreign, denied...)."""


class GroupsOverage(LoginRefused):
    """The token says the groups did not fit (Entra ID `_claim_names`) and no lookup is set."""
