"""Two bridge instances (gunicorn, two workers each) on different ports sharing the real
PostgreSQL and Redis: one-time use, session tokens, revocations, key rotation and report
jobs work across them; a production start refuses a database behind the code."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from alembic import command
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from bridge.storage import migrate
from bridge.storage.engine import make_engine
from tests.data.saml.gen import AssertionSpec, build_metadata, keypair, signed_response, to_b64
from tests.e2e.live import REGION, LiveBridge, postgres_database
from tests.support.instances import (
    ACCOUNT,
    BASE_URL,
    instance_env,
    instances,
    serving,
    shared_home,
)
from tests.support.peer_process import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ATTR = "https://aws.amazon.com/SAML/Attributes/"
ROLE = "multi-saml"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:role/multi-reader"
MARGIN = 0.25  # seconds past the revocation cache's one, for polling and a loaded machine


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveBridge]]:
    with instances(tmp_path_factory.mktemp("multi"), 2) as running:
        yield running


@pytest.fixture(scope="module")
def provider_arn(pair: list[LiveBridge]) -> str:
    return saml_setup(pair[0])


def saml_setup(bridge: LiveBridge) -> str:
    """A SAML provider (the test IdP key) and a role trusting it; the provider's arn."""
    iam: Any = bridge.client("iam")
    arn = str(
        iam.create_saml_provider(
            Name="MultiIdP", SAMLMetadataDocument=build_metadata(keypair("idp"))
        )["SAMLProviderArn"]
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    return arn


def saml_assertion(provider: str, assertion_id: str) -> str:
    """A signed response; the id gets a random suffix (Redis outlives a test run)."""
    assertion_id = f"{assertion_id}-{secrets.token_hex(6)}"
    pair_value = f"arn:aws:iam::{ACCOUNT}:role/{ROLE},{provider}"
    spec = AssertionSpec(
        now=datetime.now(UTC),
        assertion_id=assertion_id,
        audience=f"{BASE_URL}/saml/metadata",
        recipient=f"{BASE_URL}/saml/acs",
        attributes=(
            (ATTR + "Role", None, (pair_value,)),
            (ATTR + "RoleSessionName", None, ("alice@example.com",)),
        ),
    )
    return to_b64(signed_response(spec, destination=f"{BASE_URL}/saml/acs"))


def assume_saml(bridge: LiveBridge, provider: str, assertion: str) -> Any:
    sts = boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED),
    )
    return sts.assume_role_with_saml(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
        PrincipalArn=provider,
        SAMLAssertion=assertion,
    )


def session_of(bridge: LiveBridge) -> dict[str, str]:
    """Role-session credentials of `multi-reader` (may list users, get s3 objects)."""
    ensure_reader_role(bridge)
    creds = bridge.client("sts").assume_role(RoleArn=READER_ARN, RoleSessionName="bob")[
        "Credentials"
    ]
    return {k: str(creds[k]) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def ensure_reader_role(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:ListUsers", "s3:GetObject"], "Resource": "*"}
        ],
    }
    try:
        iam.create_role(RoleName="multi-reader", AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    iam.put_role_policy(
        RoleName="multi-reader", PolicyName="read", PolicyDocument=json.dumps(allow)
    )


def as_session(bridge: LiveBridge, creds: dict[str, str], service: str = "sts") -> Any:
    return boto3.client(
        service,
        endpoint_url=bridge.url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )


def works_at(bridge: LiveBridge, creds: dict[str, str]) -> bool:
    """True when the session authenticates; False when refused as an invalid token."""
    return outcome_at(bridge, creds) == "ok"


def outcome_at(bridge: LiveBridge, creds: dict[str, str]) -> str:
    return outcome_of(lambda: as_session(bridge, creds).get_caller_identity())


def outcome_of(call: Callable[[], Any]) -> str:
    """ "ok", or the AWS error code of the call."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def authorize_at(bridge: LiveBridge, bearer: str) -> dict[str, Any]:
    """POST /v1/authorize for a bearer session token, signed by the admin (`bridge`)."""
    body = json.dumps(
        {"caller": {"bearer": bearer}, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}
    ).encode()
    request = AWSRequest(
        method="POST",
        url=bridge.url + "/v1/authorize",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    creds = Credentials(bridge.access_key_id, bridge.secret_access_key)
    SigV4Auth(creds, "bridge", REGION).add_auth(request)
    sent = urllib.request.Request(
        request.url, data=body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return {"status": response.status, **json.loads(response.read())}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, **json.loads(exc.read())}


def cli(bridge: LiveBridge, *args: str) -> str:
    done = bridge.cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(0, 1, id="used-at-a-replayed-at-b"),
        pytest.param(1, 0, id="used-at-b-replayed-at-a"),
    ],
)
def test_an_assertion_used_at_one_instance_is_a_replay_at_the_other(
    pair: list[LiveBridge], provider_arn: str, first: int, second: int
) -> None:
    assertion = saml_assertion(provider_arn, f"_multi-{first}-{second}")
    granted = assume_saml(pair[first], provider_arn, assertion)
    with pytest.raises(ClientError) as caught:
        assume_saml(pair[second], provider_arn, assertion)
    error = caught.value.response["Error"]
    assert granted["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert (error["Code"], "already used" in error["Message"]) == ("InvalidIdentityToken", True)


@pytest.mark.parametrize(
    ("issuer", "user"), [pytest.param(0, 1, id="issued-at-a"), pytest.param(1, 0, id="issued-at-b")]
)
def test_a_session_token_issued_at_one_instance_authorizes_at_the_other(
    pair: list[LiveBridge], issuer: int, user: int
) -> None:
    creds = session_of(pair[issuer])
    who = as_session(pair[user], creds).get_caller_identity()
    users = as_session(pair[user], creds, "iam").list_users()["Users"]
    refused = outcome_of(lambda: as_session(pair[user], creds, "iam").list_roles())
    decision = authorize_at(pair[user], creds["SessionToken"])
    assert (decision["status"], decision["decision"]) == (200, "allowed"), decision
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/multi-reader/bob"
    assert ("admin" in {u["UserName"] for u in users}, refused) == (True, "AccessDenied")


def test_a_revocation_at_one_instance_takes_effect_at_the_other_within_a_second(
    pair: list[LiveBridge],
) -> None:
    """Made through instance a's home (`bridge sessions revoke`), seen by every worker of
    both instances within a second: each worker re-reads the list once a second (the
    exact ttl is unit-tested with a fixed clock; here `MARGIN` covers request latency)."""
    creds = session_of(pair[0])
    assert [works_at(bridge, creds) for bridge in pair] == [True, True]
    cli(pair[0], "sessions", "revoke", "--session", creds["AccessKeyId"])
    revoked_at = time.monotonic()
    delays = [seconds_until_refused(bridge, creds, revoked_at) for bridge in (pair[1], pair[0])]
    time.sleep(max(0.0, revoked_at + 1 + MARGIN - time.monotonic()))
    later = {outcome_at(bridge, creds) for bridge in pair for _ in range(4)}
    assert (later, max(delays) < 1 + MARGIN) == ({"InvalidClientTokenId"}, True), delays


def seconds_until_refused(bridge: LiveBridge, creds: dict[str, str], since: float) -> float:
    """When the first refused request was sent, in seconds after `since`."""
    while True:
        sent = time.monotonic()
        found = outcome_at(bridge, creds)
        if found != "ok":
            break
        assert sent - since < 3, f"the revocation never reached {bridge.url}"
        time.sleep(0.02)
    assert found == "InvalidClientTokenId"
    return sent - since


def test_a_key_rotation_at_one_instance_refuses_no_valid_token_at_either(
    pair: list[LiveBridge],
) -> None:
    before = session_of(pair[0])
    out = cli(pair[0], "keys", "rotate", "--purpose", "token")
    after = [session_of(pair[0]) for _ in range(4)]  # sealed with the new key at a
    seen = [outcome_at(bridge, creds) for creds in (before, *after) for bridge in pair]
    assert (out.startswith("new active token key"), seen) == (True, ["ok"] * 10)


def test_report_jobs_started_at_one_instance_are_answered_at_the_other(
    pair: list[LiveBridge],
) -> None:
    a, b = (bridge.client("iam") for bridge in pair)
    a.generate_credential_report()
    report = b.get_credential_report()
    job = a.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/admin")
    details = b.get_service_last_accessed_details(JobId=job["JobId"])
    header = base64.b64decode(report["Content"]) if isinstance(report["Content"], str) else None
    content = header or report["Content"]
    assert content.startswith(b"user,arn,user_creation_time")
    assert (details["JobStatus"], details["JobType"]) == ("COMPLETED", "SERVICE_LEVEL")


@pytest.mark.parametrize(
    ("development", "starts"),
    [
        pytest.param(False, False, id="production-refuses"),
        pytest.param(True, True, id="development-upgrades"),
    ],
)
def test_a_database_behind_the_code_blocks_a_production_start(
    tmp_path: Path, development: bool, starts: bool
) -> None:
    with postgres_database() as url, shared_home(tmp_path, url) as home:
        _downgrade(url, "0005")
        extra = {"BRIDGE_DEVELOPMENT": "true"} if development else {}
        env = instance_env(url, None, **extra)
        if starts:
            with serving(home, env, workers=1) as bridge:
                identity = bridge.client("sts").get_caller_identity()
            assert (identity["Account"], migrate.current(url)) == (ACCOUNT, migrate.head())
            return
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bridge",
                "serve",
                "--home",
                str(home),
                "--port",
                str(free_port()),
                "--workers",
                "1",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert (done.returncode, "run `bridge db upgrade` first" in done.stderr) == (1, True), (
            done.stderr
        )


def _downgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose()
