"""STS DecodeAuthorizationMessage through boto3 against a live bridge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bridge.auth_messages import encode_authorization_message
from bridge.services import build_services
from bridge.settings import load_settings
from tests.e2e.live import LiveBridge, error_of

MESSAGE: dict[str, Any] = {
    "allowed": False,
    "explicitDeny": False,
    "matchedStatements": {"items": []},
    "failures": {"items": []},
    "context": {
        "principal": {"id": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice"},
        "action": "iam:CreateUser",
        "resource": "arn:aws:iam::123456789012:user/mallory",
        "conditions": {"items": []},
    },
}


@pytest.fixture(scope="module")
def encoded(bridge: LiveBridge) -> Iterator[str]:
    """Sealed with the live bridge's own key ring (same home, same database)."""
    services = build_services(load_settings(bridge.home, dict(bridge.env)))
    try:
        yield encode_authorization_message(services.key_ring, MESSAGE)
    finally:
        services.close()


@pytest.fixture(scope="module")
def unprivileged(bridge: LiveBridge) -> Any:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="no-decode")
    key = iam.create_access_key(UserName="no-decode")["AccessKey"]
    return bridge.client("sts", key["AccessKeyId"], key["SecretAccessKey"])


def test_admin_decodes_a_message_of_this_bridge(bridge: LiveBridge, encoded: str) -> None:
    sts: Any = bridge.client("sts")
    decoded = sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
    assert json.loads(decoded) == MESSAGE


@pytest.mark.parametrize(
    "garble",
    [lambda text: text[:-6] + "AAAAAA", lambda text: "x" + text, lambda _text: "not-a-message"],
    ids=["altered-tail", "shifted", "foreign"],
)
def test_garbled_message_is_invalid(bridge: LiveBridge, encoded: str, garble: Any) -> None:
    sts: Any = bridge.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.decode_authorization_message(EncodedMessage=garble(encoded))
    code, message = error_of(caught)
    assert code == "InvalidAuthorizationMessageException"
    assert message.startswith("the encoded authorization message is invalid")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_caller_without_permission_is_denied(unprivileged: Any, encoded: str) -> None:
    with pytest.raises(ClientError) as caught:
        unprivileged.decode_authorization_message(EncodedMessage=encoded)
    code, message = error_of(caught)
    assert code == "AccessDenied"
    assert "sts:DecodeAuthorizationMessage" in message
