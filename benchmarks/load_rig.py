"""What the load benchmark and the soak test share: a bridge started the way production
runs it (`bridge init`, then `bridge serve --workers N`, i.e. gunicorn) on SQLite or a
fresh PostgreSQL database, the trivial Flask app under gunicorn with the same worker
count, a local OpenID provider, and request bodies made with real keys (SAML responses
signed by the test IdP key of `tests/data/saml`, RS256 JWTs of `tests/e2e/idp.py`,
SigV4 signatures by botocore).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from tests.data.saml.gen import (
    AssertionSpec,
    build_metadata,
    keypair,
    signed_response,
    to_b64,
)
from tests.e2e.idp import LocalIdP, running_idp

ACCOUNT = "123456789012"
REGION = "eu-west-1"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
# Rate limits well above what one load generator can send from loopback.
UNLIMITED = {
    "BRIDGE_RATE_LIMIT_STS_PER_MINUTE": "1000000",
    "BRIDGE_RATE_LIMIT_PROVIDER_PER_MINUTE": "10000000",
    "BRIDGE_RATE_LIMIT_SIGNIN_PER_MINUTE": "1000000",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        found = children.read_text().split() if children.exists() else []
        return [self.proc.pid, *(int(pid) for pid in found)]

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            status = Path(f"/proc/{pid}/status")
            if not status.exists():
                continue
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total


@dataclass
class Bridge:
    server: Server
    home: Path
    env: dict[str, str]
    key: str
    secret: str
    database_url: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            config=Config(retries={"max_attempts": 1}),
        )


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path, probe: str) -> Iterator[Server]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_up(probe, proc, log)
        yield Server(probe.rsplit("/", 1)[0], proc, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"bridge_bench_{secrets.token_hex(5)}"
    admin = psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return {**env, **UNLIMITED, **extra}


@contextmanager
def bridge_server(
    *, workers: int, postgres: bool, redis_url: str | None = None
) -> Iterator[Bridge]:
    """`bridge init` + `bridge serve --workers N` in a temp home, stopped at the end."""
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bridge-bench-")))
        database_url = stack.enter_context(postgres_database()) if postgres else ""
        port = free_port()
        extra = {"BRIDGE_BASE_URL": f"http://127.0.0.1:{port}", "BRIDGE_LOG_LEVEL": "WARNING"}
        if database_url:
            extra["BRIDGE_DATABASE_URL"] = database_url
        if redis_url:
            extra["BRIDGE_REDIS_URL"] = redis_url
        env = _clean_env(extra)
        home = root / "home"
        bridge = [sys.executable, "-m", "bridge"]
        subprocess.run(
            [*bridge, "init", "--home", str(home), "--account-id", ACCOUNT],
            env=env,
            check=True,
            capture_output=True,
        )
        command = [*bridge, "serve", "--home", str(home), "--port", str(port)]
        command += ["--workers", str(workers)]
        server = stack.enter_context(
            _process(command, env, root / "serve.log", f"http://127.0.0.1:{port}/healthz")
        )
        key, secret = _admin_keys(home)
        yield Bridge(server, home, env, key, secret, database_url or f"sqlite:///{home}/bridge.db")


def _admin_keys(home: Path) -> tuple[str, str]:
    import configparser

    creds = configparser.ConfigParser()
    creds.read(home / "admin-credentials")
    return creds["default"]["aws_access_key_id"], creds["default"]["aws_secret_access_key"]


@contextmanager
def trivial_server(workers: int) -> Iterator[Server]:
    """benchmarks/trivial_app.py under gunicorn: same workers, access log to stdout."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(REPOSITORY / "benchmarks"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "trivial_app:app",
    ]
    with tempfile.TemporaryDirectory(prefix="bridge-trivial-") as root:
        log = Path(root) / "trivial.log"
        with _process(command, dict(os.environ), log, f"http://127.0.0.1:{port}/") as server:
            yield server


@contextmanager
def federation(bridge: Bridge) -> Iterator[LocalIdP]:
    """A SAML provider and a role trusting it; a local OpenID provider and a role."""
    with running_idp() as idp:
        iam = bridge.client("iam")
        saml = iam.create_saml_provider(
            Name="BenchIdP", SAMLMetadataDocument=build_metadata(keypair("idp"))
        )["SAMLProviderArn"]
        oidc = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=["bridge"])[
            "OpenIDConnectProviderArn"
        ]
        for role, principal, action in (
            ("bench-saml", saml, "sts:AssumeRoleWithSAML"),
            ("bench-web", oidc, "sts:AssumeRoleWithWebIdentity"),
        ):
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Federated": principal}, "Action": action}
                ],
            }
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
            iam.put_role_policy(
                RoleName=role,
                PolicyName="read",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                        ],
                    }
                ),
            )
        bridge.extras.update(saml_provider=saml, idp=idp)
        yield idp


def form(params: dict[str, str]) -> str:
    return urllib.parse.urlencode(params)


def saml_body(bridge: Bridge, assertion_id: str) -> str:
    provider = bridge.extras["saml_provider"]
    spec = AssertionSpec(
        now=datetime.now(UTC),
        assertion_id=assertion_id,
        audience=f"{bridge.url}/saml/metadata",
        recipient=f"{bridge.url}/saml/acs",
        attributes=(
            (ATTR + "Role", None, (f"arn:aws:iam::{ACCOUNT}:role/bench-saml,{provider}",)),
            (ATTR + "RoleSessionName", None, ("alice@example.com",)),
        ),
    )
    assertion = to_b64(signed_response(spec, destination=f"{bridge.url}/saml/acs"))
    return form(
        {
            "Action": "AssumeRoleWithSAML",
            "Version": "2011-06-15",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-saml",
            "PrincipalArn": provider,
            "SAMLAssertion": assertion,
        }
    )


def web_identity_body(bridge: Bridge, jti: str) -> str:
    idp: LocalIdP = bridge.extras["idp"]
    return form(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-web",
            "RoleSessionName": "bench",
            "WebIdentityToken": idp.token(jti=jti, lifetime=3600),
        }
    )


def signed(
    bridge: Bridge, path: str, body: str, *, service: str, content_type: str, creds: Credentials
) -> dict[str, str]:
    """SigV4 headers for one POST; the same request may be sent again for 15 minutes."""
    request = AWSRequest(
        method="POST",
        url=bridge.url + path,
        data=body.encode(),
        headers={"Content-Type": content_type},
    )
    SigV4Auth(creds, service, REGION).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


def admin_credentials(bridge: Bridge) -> Credentials:
    return Credentials(bridge.key, bridge.secret)


def caller_identity_request(bridge: Bridge) -> tuple[str, dict[str, str]]:
    """GetCallerIdentity signed with temporary credentials (a session token)."""
    creds = bridge.client("sts").get_session_token(DurationSeconds=3600)["Credentials"]
    session = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    body = form({"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    headers = signed(
        bridge,
        "/",
        body,
        service="sts",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        creds=session,
    )
    return body, headers


def authorize_request(bridge: Bridge) -> tuple[str, dict[str, str]]:
    """/v1/authorize with a bearer session token (an AssumeRoleWithWebIdentity session),
    signed by the asking service (the admin) with signing name `bridge`."""
    web = urllib.request.Request(
        bridge.url + "/",
        data=web_identity_body(bridge, secrets.token_hex(8)).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(web, timeout=10) as response:
        xml = response.read().decode()
    token = xml.split("<SessionToken>", 1)[1].split("</SessionToken>", 1)[0]
    body = json.dumps(
        {
            "caller": {"bearer": token},
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bench-bucket/key-1",
        }
    )
    headers = signed(
        bridge,
        "/v1/authorize",
        body,
        service="bridge",
        content_type="application/json",
        creds=admin_credentials(bridge),
    )
    return body, headers
