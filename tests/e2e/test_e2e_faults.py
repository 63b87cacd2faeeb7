"""A production bridge (gunicorn) when PostgreSQL or Redis goes away and comes back.

The instance reaches the real PostgreSQL and Redis through loopback TCP proxies that the
tests stop and start (`tests/support/tcp_proxy.py`): a stopped proxy refuses new
connections and cuts the open ones, as a restarting server does, while the shared
servers stay up for every other test. One worker, so its caches are the ones warmed.

Fail closed where security depends on it: with Redis down, one-time-use checks cannot
run, so `AssumeRoleWithSAML` is refused (503), never accepted unchecked; the same
assertion is accepted once Redis is back, proving it was not recorded meanwhile, and
refused as a replay after that. Web identity tokens have no one-time use (as in STS).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.idp import LocalIdP, running_idp
from tests.e2e.live import REGION, LiveBridge, postgres_database
from tests.e2e.test_e2e_multi_instance import (
    ROLE,
    as_session,
    assume_saml,
    outcome_at,
    saml_assertion,
    saml_setup,
    session_of,
)
from tests.support.instances import (
    copy_home,
    instance_env,
    require_redis,
    serving,
    shared_home,
)
from tests.support.tcp_proxy import TcpProxy, running_proxy

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
CONNECT_TIMEOUT = 1.0
QUICK = 2 * CONNECT_TIMEOUT  # the bound on a refusal while a part is down


@dataclass(frozen=True)
class Rig:
    bridge: LiveBridge
    database: TcpProxy
    redis: TcpProxy


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    require_redis()
    root = tmp_path_factory.mktemp("faults")
    with (
        postgres_database() as url,
        shared_home(root, url) as seed,
        running_proxy("127.0.0.1", 5432) as database,
        running_proxy("127.0.0.1", 6379) as redis,
    ):
        env = instance_env(
            url.replace("127.0.0.1:5432", f"127.0.0.1:{database.port}"),
            f"redis://127.0.0.1:{redis.port}/0",
            BRIDGE_DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        )
        with serving(copy_home(seed, "faulty"), env, workers=1) as bridge:
            yield Rig(bridge, database, redis)


@pytest.fixture
def outage(rig: Rig) -> Iterator[Callable[[str], TcpProxy]]:
    """Stops a part (`database` or `redis`) for one test; it is back afterwards."""
    stopped: list[TcpProxy] = []

    def stop(part: str) -> TcpProxy:
        proxy: TcpProxy = getattr(rig, part)
        proxy.stop()
        stopped.append(proxy)
        return proxy

    yield stop
    for proxy in stopped:
        proxy.start()
    wait_ready(rig.bridge)


@pytest.fixture(scope="module")
def provider(rig: Rig) -> str:
    return saml_setup(rig.bridge)


@pytest.fixture(scope="module")
def web_role(rig: Rig) -> Iterator[tuple[LocalIdP, str]]:
    """A local OpenID provider, its OIDC provider in the bridge and a role trusting it."""
    with running_idp() as idp:
        iam: Any = rig.bridge.client("iam")
        arn = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=["bridge"])[
            "OpenIDConnectProviderArn"
        ]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                }
            ],
        }
        role = iam.create_role(RoleName="faults-web", AssumeRolePolicyDocument=json.dumps(trust))
        yield idp, str(role["Role"]["Arn"])


def readyz(bridge: LiveBridge) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(bridge.url + "/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_ready(bridge: LiveBridge, limit: float = 10) -> float:
    """Seconds until /readyz says ready (fails past `limit`)."""
    started = time.monotonic()
    while readyz(bridge)[0] != 200:
        assert time.monotonic() - started < limit, f"not ready after {limit} s: {readyz(bridge)}"
        time.sleep(0.1)
    return time.monotonic() - started


def timed(call: Callable[[], Any]) -> tuple[str, float]:
    """(the AWS error code or "ok", seconds taken)."""
    started = time.monotonic()
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"]), time.monotonic() - started
    return "ok", time.monotonic() - started


@pytest.mark.parametrize(
    ("part", "other"),
    [
        pytest.param("database", "redis", id="database"),
        pytest.param("redis", "database", id="redis"),
    ],
)
def test_readyz_names_the_part_that_is_down_and_recovers(
    rig: Rig, outage: Callable[[str], TcpProxy], part: str, other: str
) -> None:
    assert readyz(rig.bridge)[0] == 200
    proxy = outage(part)
    started = time.monotonic()
    status, body = readyz(rig.bridge)
    took = time.monotonic() - started
    proxy.start()
    recovered = wait_ready(rig.bridge)
    assert (status, body["status"], body["checks"][other]) == (503, "unavailable", "ok")
    assert body["checks"][part].startswith("unavailable: ")
    assert (took < QUICK, recovered < 5) == (True, True), (took, recovered)


def test_a_call_that_needs_the_database_answers_503_quickly_and_recovers(
    rig: Rig, outage: Callable[[str], TcpProxy]
) -> None:
    iam = rig.bridge.client("iam")
    assert timed(iam.list_users)[0] == "ok"
    proxy = outage("database")
    down = [timed(iam.list_users) for _ in range(3)]
    proxy.start()
    wait_ready(rig.bridge)
    assert [code for code, _ in down] == ["ServiceUnavailable"] * 3
    assert max(took for _, took in down) < QUICK, down
    assert timed(iam.list_users)[0] == "ok"


def test_session_tokens_keep_authenticating_while_the_database_is_down(
    rig: Rig, outage: Callable[[str], TcpProxy]
) -> None:
    creds = session_of(rig.bridge)
    assert outcome_at(rig.bridge, creds) == "ok"  # the revocation list is now loaded
    outage("database")
    seen = [timed(as_session(rig.bridge, creds).get_caller_identity) for _ in range(5)]
    time.sleep(1.1)  # past the revocation cache's second: the last list read is used
    seen += [timed(as_session(rig.bridge, creds).get_caller_identity)]
    assert [code for code, _ in seen] == ["ok"] * 6
    assert max(took for _, took in seen) < QUICK, seen


def decide_at(bridge: LiveBridge, bearer: str, action: str) -> tuple[int, str]:
    """(status, decision) of POST /v1/authorize for a bearer token, asked by the admin."""
    body = json.dumps(
        {"caller": {"bearer": bearer}, "action": action, "resource": "arn:aws:s3:::b/k"}
    ).encode()
    request = AWSRequest("POST", bridge.url + "/v1/authorize", data=body,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(
        Credentials(bridge.access_key_id, bridge.secret_access_key), "bridge", REGION
    ).add_auth(request)
    sent = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, str(json.loads(response.read())["decision"])
    except urllib.error.HTTPError as exc:
        return exc.code, str(json.loads(exc.read()).get("error"))


def test_decisions_on_session_tokens_go_on_while_the_database_is_down(
    rig: Rig, outage: Callable[[str], TcpProxy]
) -> None:
    """The directory cache (role policies, the asking service's key) and the revocation
    list serve their last reads for up to five minutes; IAM writes need the database."""
    token = session_of(rig.bridge)["SessionToken"]
    actions = ("s3:GetObject", "s3:PutObject")
    warm = [decide_at(rig.bridge, token, action) for action in actions]
    outage("database")
    write = timed(lambda: rig.bridge.client("iam").create_user(UserName="while-down"))
    down: list[tuple[int, str]] = []
    started = time.monotonic()
    for _ in range(2):  # the second round is past the caches' second: stale reads
        down += [decide_at(rig.bridge, token, action) for action in actions]
        time.sleep(1.1)
    took = time.monotonic() - started - 2.2
    assert warm == [(200, "allowed"), (200, "implicitDeny")]
    assert down == warm * 2
    assert write[0] == "ServiceUnavailable"
    assert took < 2 * QUICK, took


def test_a_saml_assertion_is_refused_not_accepted_while_redis_is_down(
    rig: Rig, outage: Callable[[str], TcpProxy], provider: str
) -> None:
    send = saml_call(rig, provider)
    proxy = outage("redis")
    refused = timed(send)
    proxy.start()
    wait_ready(rig.bridge)
    accepted, replayed = timed(send), timed(send)
    assert (refused[0], accepted[0], replayed[0]) == (
        "ServiceUnavailable",
        "ok",
        "InvalidIdentityToken",
    )
    assert refused[1] < QUICK, refused


def test_web_identity_needs_no_one_time_use_and_keeps_working_while_redis_is_down(
    rig: Rig, outage: Callable[[str], TcpProxy], web_role: tuple[LocalIdP, str]
) -> None:
    """STS lets a web identity token be presented again until it expires (no replay
    check), so Redis is not on this path."""
    send = web_call(rig, *web_role)
    outage("redis")
    assert [timed(send)[0] for _ in range(2)] == ["ok", "ok"]


def saml_call(rig: Rig, provider: str) -> Callable[[], Any]:
    assertion = saml_assertion(provider, "_faults-redis")
    return lambda: assume_saml(rig.bridge, provider, assertion)


def web_call(rig: Rig, idp: LocalIdP, role_arn: str) -> Callable[[], Any]:
    token = idp.token(jti=f"faults-{time.monotonic_ns()}")
    sts = boto3.client(
        "sts",
        endpoint_url=rig.bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    return lambda: sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="carol", WebIdentityToken=token
    )


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda b: b.client("iam").list_users(), id="iam-list-users"),
        pytest.param(lambda b: b.client("sts").get_caller_identity(), id="get-caller-identity"),
        pytest.param(lambda b: b.client("iam").get_role(RoleName=ROLE), id="iam-get-role"),
    ],
)
def test_what_needs_no_one_time_use_keeps_working_while_redis_is_down(
    rig: Rig, outage: Callable[[str], TcpProxy], provider: str, call: Callable[[LiveBridge], Any]
) -> None:
    outage("redis")
    assert timed(lambda: call(rig.bridge))[0] == "ok"
