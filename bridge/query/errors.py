"""The one table from domain errors to AWS error `Code`, HTTP status and `Sender`/`Receiver`.

Client faults are 4xx `Sender` with a message safe to show; anything unmapped is a
500 `InternalFailure` whose detail stays in the log (CONVENTIONS 9 and 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge import errors
from bridge.auth_messages import InvalidAuthorizationMessage
from bridge.federate import IdPRejectedClaim
from bridge.sessions import PackedPolicyTooLarge
from bridge.verify import errors as token_errors
from bridge.verify import saml_errors


class QueryError(errors.ClientFault):
    """A protocol-level fault found by the Query edge itself (parameters, actions)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class WireError:
    code: str
    status: int
    message: str

    @property
    def kind(self) -> str:
        return "Sender" if self.status < 500 else "Receiver"


_BY_CLASS: dict[type[errors.BridgeError], tuple[str, int]] = {
    errors.NotFound: ("NoSuchEntity", 404),
    errors.AlreadyExists: ("EntityAlreadyExists", 409),
    errors.DeleteConflict: ("DeleteConflict", 409),
    errors.LimitExceeded: ("LimitExceeded", 409),
    errors.MalformedPolicy: ("MalformedPolicyDocument", 400),
    errors.PolicyNotAttachable: ("PolicyNotAttachable", 400),
    errors.PasswordPolicyViolation: ("PasswordPolicyViolation", 400),
    errors.InvalidAuthenticationCode: ("InvalidAuthenticationCode", 403),
    errors.InvalidInput: ("InvalidInput", 400),
    errors.AccessDenied: ("AccessDenied", 403),
    errors.StorageUnavailable: ("ServiceUnavailable", 503),
    errors.Throttled: ("Throttling", 400),  # Sender; botocore retries it (contract §1.4)
    token_errors.InvalidIdentityToken: ("InvalidIdentityToken", 400),
    token_errors.ExpiredIdentityToken: ("ExpiredTokenException", 400),
    token_errors.IdPCommunicationError: ("IDPCommunicationError", 400),
    saml_errors.InvalidSAMLResponse: ("InvalidIdentityToken", 400),
    saml_errors.UnsafeXML: ("InvalidIdentityToken", 400),
    saml_errors.InvalidSAMLMetadata: ("InvalidIdentityToken", 400),
    saml_errors.ExpiredSAMLResponse: ("ExpiredTokenException", 400),
    IdPRejectedClaim: ("IDPRejectedClaim", 403),
    PackedPolicyTooLarge: ("PackedPolicyTooLarge", 400),
    InvalidAuthorizationMessage: ("InvalidAuthorizationMessageException", 400),
}

# SigV4 reasons (AuthenticationFailed.reason) that AWS answers with 400, not 403.
_AUTH_STATUS = {"IncompleteSignature": 400, "RequestExpired": 400}

INTERNAL = WireError("InternalFailure", 500, "We encountered an internal error. Please try again.")


def to_wire(exc: errors.BridgeError) -> WireError | None:
    """The AWS form of a domain error, or None when it is not mapped (→ logged 500)."""
    if isinstance(exc, QueryError):
        return WireError(exc.code, exc.status, exc.message)
    if isinstance(exc, errors.AuthenticationFailed):
        return WireError(exc.reason, _AUTH_STATUS.get(exc.reason, 403), exc.message)
    for cls in type(exc).__mro__:
        if cls in _BY_CLASS:
            code, status = _BY_CLASS[cls]
            return WireError(code, status, exc.message)
    return None
