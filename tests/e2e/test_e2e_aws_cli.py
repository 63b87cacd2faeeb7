"""The AWS CLI (v1) against a live bridge: `aws --endpoint-url <bridge> iam ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import REGION, LiveBridge

pytest.importorskip("awscli")
AWS = Path(sys.executable).with_name("aws")


def aws(bridge: LiveBridge, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": bridge.access_key_id,
        "AWS_SECRET_ACCESS_KEY": bridge.secret_access_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    command = [str(AWS), "--endpoint-url", bridge.url, "--output", "json", "iam", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_create_and_list_users(bridge: LiveBridge) -> None:
    created = ok(aws(bridge, "create-user", "--user-name", "cli-user", "--path", "/cli/"))
    assert created["User"]["Arn"] == "arn:aws:iam::123456789012:user/cli/cli-user"
    listed = ok(aws(bridge, "list-users", "--path-prefix", "/cli/"))
    assert [u["UserName"] for u in listed["Users"]] == ["cli-user"]


def test_missing_user_is_an_error(bridge: LiveBridge) -> None:
    result = aws(bridge, "get-user", "--user-name", "cli-nobody")
    assert result.returncode in (254, 255)
    assert "NoSuchEntity" in result.stderr


def test_simulate_custom_policy(bridge: LiveBridge) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    result = ok(
        aws(
            bridge,
            "simulate-custom-policy",
            "--policy-input-list",
            json.dumps(policy),
            "--action-names",
            "s3:GetObject",
            "s3:PutObject",
        )
    )
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in result["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
