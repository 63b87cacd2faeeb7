"""The unsigned STS actions past `BRIDGE_RATE_LIMIT_STS_PER_MINUTE`: boto3 sees AWS's
`Throttling` (400, Sender), and `/metrics` of the live bridge counts it."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.live import REGION, LiveBridge, clean_env, start_bridge

LIMIT = 3


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    home = tmp_path_factory.mktemp("throttle") / "home"
    yield from start_bridge(home, clean_env({"BRIDGE_RATE_LIMIT_STS_PER_MINUTE": str(LIMIT)}))


def anonymous_sts(bridge: LiveBridge) -> Any:
    """No credentials, and no retries: botocore would otherwise retry `Throttling`."""
    config = Config(
        signature_version=UNSIGNED, retries={"mode": "standard", "total_max_attempts": 1}
    )
    return boto3.client("sts", endpoint_url=bridge.url, region_name=REGION, config=config)


def attempt(sts: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::123456789012:role/nobody",
            RoleSessionName="alice",
            WebIdentityToken="not.a.token",
        )
    response = raised.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def test_unsigned_sts_past_the_limit_is_throttling(limited: LiveBridge) -> None:
    sts = anonymous_sts(limited)
    # Twice the limit and one: even if a minute window ends between two calls, one
    # window gets more than LIMIT of them.
    answers = [attempt(sts) for _ in range(2 * LIMIT + 1)]
    assert answers[:LIMIT] == [("InvalidIdentityToken", 400)] * LIMIT
    assert ("Throttling", 400) in answers[LIMIT:]
    with urllib.request.urlopen(limited.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'bridge_rate_limited_total{scope="sts"}' in text
    assert 'bridge_refusals_total{reason="Throttling"}' in text


def test_signed_calls_are_not_throttled_by_the_sts_limit(limited: LiveBridge) -> None:
    sts = limited.client("sts")
    for _ in range(2 * LIMIT):
        assert sts.get_caller_identity()["Account"] == "123456789012"
