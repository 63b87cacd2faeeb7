"""Domain exceptions.

They carry no HTTP status and no AWS error code: each edge (`query/errors.py`,
the login pages, the JSON API) has its own single table from these classes to its
wire form. Messages follow the conventions: lower case, no final period, user
input in backticks, and they are safe to show to the client (client faults) or
go to the log only (server faults).
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientFault(BridgeError):
    """The caller sent something wrong; the message is safe to show them."""


class ServerFault(BridgeError):
    """Something on our side failed; the message goes to the log, not the client."""


# --- client faults -------------------------------------------------------------


class InvalidInput(ClientFault):
    """A field broke a rule. `field` names it (a parameter, a JSON path, a config key)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class NotFound(ClientFault):
    """The named entity does not exist (IAM `NoSuchEntity`)."""


class AlreadyExists(ClientFault):
    """An entity with that name or id exists already (IAM `EntityAlreadyExists`)."""


class DeleteConflict(ClientFault):
    """The entity still has attachments, members or subresources (IAM `DeleteConflict`)."""


class LimitExceeded(ClientFault):
    """A quota would be exceeded (IAM `LimitExceeded`)."""


class MalformedPolicy(ClientFault):
    """A policy document is not valid (IAM `MalformedPolicyDocument`)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class PolicyNotAttachable(ClientFault):
    """The managed policy cannot be attached (IAM `PolicyNotAttachable`)."""


class PasswordPolicyViolation(ClientFault):
    """A password breaks the account password policy."""


class InvalidAuthenticationCode(ClientFault):
    """A TOTP code was wrong or reused."""


class AccessDenied(ClientFault):
    """The caller may not do this."""


class Throttled(ClientFault):
    """Too many requests for one key (a client address, a provider) in the current window.

    `retry_after` is the number of seconds until the window ends (for `Retry-After`).
    """

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(ClientFault):
    """The caller could not be authenticated. `reason` is a short machine-readable tag."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ConfigError(ClientFault):
    """Configuration is invalid. `faults` lists every problem as (key, message)."""

    def __init__(self, faults: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{key}: {msg}" for key, msg in faults)
        super().__init__(f"invalid configuration: {lines}")
        self.faults = faults


# --- server faults -------------------------------------------------------------


class StorageUnavailable(ServerFault):
    """The database (or the one-time-use cache) cannot be reached."""


class KeyRingError(ServerFault):
    """The key ring cannot be opened (wrong or missing master key, corrupt record)."""
