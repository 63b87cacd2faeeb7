"""`bridge policy validate` and `bridge policy simulate` on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli

READS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {
            "Sid": "NoSecrets",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/secret/*",
        },
    ],
}


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_validate_accepts_a_good_policy(tmp_path: Path) -> None:
    code, output = run("policy", "validate", str(write(tmp_path, "p.json", READS)))
    assert code == 0
    assert output.strip() == f"{tmp_path / 'p.json'}: ok"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "error"),
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}],
            },
            "Statement[0].Effect",
        ),
        ({"Version": "2012-10-17", "Statement": []}, "Statement"),
    ],
    ids=["malformed-json", "bad-effect", "no-statements"],
)
def test_validate_names_the_fault_and_fails(tmp_path: Path, content: object, expected: str) -> None:
    code, output = run("policy", "validate", str(write(tmp_path, "bad.json", content)))
    assert code == 1
    assert expected in output


def test_validate_json_output_lists_findings(tmp_path: Path) -> None:
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
    }
    path = write(tmp_path, "wide.json", wide)
    code, output = run("policy", "validate", "--format", "json", str(path))
    findings = json.loads(output)[str(path)]
    assert code == 0
    assert "allow-with-not-action" in {f["code"] for f in findings}


@pytest.mark.parametrize(
    ("resource", "decision"),
    [
        ("arn:aws:s3:::b/report.csv", "allowed"),
        ("arn:aws:s3:::b/secret/key", "explicitDeny"),
        ("arn:aws:s3:::other/x", "implicitDeny"),
    ],
    ids=["allowed", "explicit-deny", "implicit-deny"],
)
def test_simulate_prints_the_decision(tmp_path: Path, resource: str, decision: str) -> None:
    path = write(tmp_path, "p.json", READS)
    code, output = run(
        "policy",
        "simulate",
        "--policy",
        str(path),
        "--action",
        "s3:GetObject",
        "--resource",
        resource,
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(output)["decision"] == decision


def test_simulate_reports_missing_context_and_uses_context(tmp_path: Path) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "core"}},
            }
        ],
    }
    path = write(tmp_path, "p.json", policy)
    base = [
        "policy",
        "simulate",
        "--policy",
        str(path),
        "--action",
        "s3:GetObject",
        "--resource",
        "x",
    ]
    code, output = run(*base)
    assert code == 0 and "implicitDeny" in output and "aws:PrincipalTag/team" in output
    code, output = run(*base, "--context", "aws:PrincipalTag/team=core")
    assert code == 0 and output.startswith("decision: allowed")


def test_simulate_with_a_boundary_narrows(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.json", READS)
    boundary = write(
        tmp_path,
        "b.json",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        },
    )
    code, output = run(
        "policy",
        "simulate",
        "--policy",
        str(policy),
        "--boundary",
        str(boundary),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/x",
    )
    assert code == 0 and output.startswith("decision: implicitDeny")


def test_simulate_rejects_bad_context_pairs(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", READS)
    code, output = run(
        "policy",
        "simulate",
        "--policy",
        str(path),
        "--action",
        "s3:GetObject",
        "--resource",
        "x",
        "--context",
        "novalue",
    )
    assert code == 2
    assert "expected key=value, got `novalue`" in output
