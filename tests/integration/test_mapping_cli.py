"""`bridge mapping test|diff` and `bridge config validate` on a home made by `bridge init`.

The home gets the example rules of tests/data/mapping/bridge.yaml, an IAM OIDC
provider for the Okta and Entra ID issuers, the IAM SAML provider `corp-adfs`, and
roles whose trust policies accept some candidates and refuse others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.services import build_services
from bridge.settings import load_settings

ACCOUNT = "123456789012"
DATA = Path(__file__).resolve().parents[1] / "data" / "mapping"
SAML_METADATA = (
    Path(__file__).resolve().parents[1] / "data" / "saml" / "fixtures" / "idp-metadata.xml"
)
OKTA = "corp.okta.example/oauth2/default"
ENTRA = "login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
OKTA_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OKTA}"
ENTRA_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ENTRA}"
ADFS_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-adfs"
ACS = "http://127.0.0.1:5000/saml/acs"
NO_BRIDGE_ENV = {name: None for name in os.environ if name.startswith("BRIDGE_")}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def statement(
    provider: str, actions: list[str], condition: dict[str, object] | None = None, **extra: str
) -> dict[str, object]:
    item: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": actions,
        **extra,
    }
    if condition:
        item["Condition"] = condition
    return item


WEB, SAML, TAG = "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:TagSession"
TRUST = {
    "admin": [
        statement(OKTA_ARN, [WEB, TAG], {"StringEquals": {f"{OKTA}:aud": "0oa1bridgeclient"}}),
        statement(
            ENTRA_ARN,
            [WEB, TAG],
            {"StringEquals": {f"{ENTRA}:aud": "6731de76-14a6-49ae-97bc-6eba6914391e"}},
        ),
        statement(ADFS_ARN, [SAML, TAG], {"StringEquals": {"saml:aud": ACS}}),
    ],
    "payments-developer": [
        statement(OKTA_ARN, [WEB, TAG], {"StringEquals": {"aws:RequestTag/Team": "payments"}})
    ],
    "search-developer": [statement(OKTA_ARN, [WEB])],  # no sts:TagSession: refused
    "readonly": [
        statement(ADFS_ARN, [SAML]),
        {**statement(OKTA_ARN, [WEB]), "Effect": "Deny", "Sid": "NoOkta"},
    ],
    "billing-developer": [statement(ADFS_ARN, [SAML])],
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=NO_BRIDGE_ENV, catch_exceptions=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mapping") / "home"
    result = invoke("init", "--home", str(path), "--account-id", ACCOUNT)
    assert result.exit_code == 0, result.output
    config = path / "bridge.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + (DATA / "bridge.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    services = build_services(load_settings(path, environ={}))
    try:
        directory = services.directory
        directory.oidc_providers.create(f"https://{OKTA}", client_ids=["0oa1bridgeclient"])
        directory.oidc_providers.create(
            f"https://{ENTRA}", client_ids=["6731de76-14a6-49ae-97bc-6eba6914391e"]
        )
        directory.saml_providers.create("corp-adfs", SAML_METADATA.read_text(encoding="utf-8"))
        for name, statements in TRUST.items():
            document = {"Version": "2012-10-17", "Statement": statements}
            directory.roles.create(name, json.dumps(document))
    finally:
        services.close()
    return path


def mapping_test(home: Path, claims: str, provider: str, *more: str) -> Result:
    return invoke(
        "mapping", "test", "--home", str(home), "--provider", provider,
        "--claims", str(DATA / claims), *more,
    )  # fmt: skip


def trust_of(result: Result) -> dict[str, tuple[bool, str]]:
    data = json.loads(result.output)
    return {item["role_arn"]: (item["accepted"], item["why"]) for item in data["trust"]}


def test_okta_alice_gets_the_roles_whose_trust_accepts_her(home: Path) -> None:
    result = mapping_test(home, "okta_alice.json", "corp-okta", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["candidates"] == ["admin", "payments-developer", "search-developer", "readonly"]
    trust = trust_of(result)
    assert trust[role_arn("admin")] == (True, f"the trust policy allows {WEB}, {TAG}")
    assert trust[role_arn("payments-developer")][0] is True
    refused_tags = trust[role_arn("search-developer")]
    assert refused_tags == (False, f"the trust policy refuses {TAG}: no statement allows it")
    assert trust[role_arn("readonly")] == (
        False,
        f"the trust policy refuses {WEB}: denied by statement `NoOkta`",
    )
    assert data["granted"] == [role_arn("admin"), role_arn("payments-developer")]
    details = {item["role"]: item for item in data["candidate_details"]}
    assert details["admin"]["session_name"] == "alice@example.com"
    assert details["admin"]["tags"] == {"Department": "Payments"}
    assert details["payments-developer"]["tags"] == {"Team": "payments"}
    assert data["identity"]["groups"] == ["staff", "admins", "team-payments", "team-search"]
    assert data["identity"]["claims"]["nonce"] == "***"
    assert "n-0S6_WzA2Mj" not in result.output


def test_text_trace_shows_rules_candidates_and_trust(home: Path) -> None:
    result = mapping_test(home, "okta_alice.json", "corp-okta")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"provider corp-okta (oidc, {OKTA_ARN})"
    assert (
        "groups: staff, admins, team-payments, team-search (1 removed by the group filter)" in lines
    )
    assert (
        "  [matched] okta-admins: `groups` contains `admins` and `email` has email domain "
        "`example.com` -> admin"
    ) in lines
    assert "  [no] entra-admins: the rule is for provider(s) corp-entra" in lines
    assert (
        f"  [refused] {role_arn('search-developer')}: the trust policy refuses {TAG}: "
        "no statement allows it" in lines
    )
    assert f"granted: {role_arn('admin')}, {role_arn('payments-developer')}" in lines


def test_okta_bob_is_refused_by_trust_and_exits_1(home: Path) -> None:
    result = mapping_test(home, "okta_bob.json", "corp-okta")
    assert result.exit_code == 1
    assert (
        f"  [refused] {role_arn('readonly')}: the trust policy refuses {WEB}: "
        "denied by statement `NoOkta`" in result.output.splitlines()
    )
    assert result.output.splitlines()[-1] == (
        "shown to the person: your groups were staff; the rules for provider corp-okta "
        "proposed roles, but no role's trust policy accepts this sign-in"
    )


def test_okta_carol_matches_no_rule(home: Path) -> None:
    result = mapping_test(home, "okta_carol.json", "corp-okta")
    assert result.exit_code == 1
    assert "candidates: (none)" in result.output
    assert result.output.splitlines()[-1] == (
        "shown to the person: you have no groups; no rule matched them for provider corp-okta"
    )


def test_entra_dana_by_app_role(home: Path) -> None:
    result = mapping_test(home, "entra_dana.json", "corp-entra", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["granted"] == [role_arn("admin")]
    (admin,) = data["candidate_details"]
    assert admin["session_name"] == "dana@contoso.example"
    assert admin["tags"] == {"TenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    assert data["rules"][3]["why"].startswith("`tid` equals")


def test_entra_overage_is_explained(home: Path) -> None:
    result = mapping_test(home, "entra_evan_overage.json", "corp-entra", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["identity"]["groups_overage"] is True
    assert data["identity"]["claims"]["_claim_sources"] == "***"
    assert data["summary"].startswith("your token says you are in too many groups")


def test_adfs_frank_through_the_saml_provider(home: Path) -> None:
    result = mapping_test(home, "adfs_frank.json", "corp-adfs", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["candidates"] == ["readonly", "admin", "billing-developer"]
    assert sorted(data["granted"]) == sorted(role_arn(n) for n in data["candidates"])
    details = {item["role"]: item for item in data["candidate_details"]}
    assert details["admin"]["session_name"] == "frank@contoso.example"
    assert details["billing-developer"]["duration_seconds"] == 7200


def test_adfs_claims_through_an_oidc_rule_name_fall_back_to_iss(home: Path) -> None:
    result = mapping_test(home, "adfs_frank.json", "corp-okta")
    assert result.exit_code == 2
    assert "no IAM OIDC provider is registered for the issuer" in result.output


def test_a_role_that_does_not_exist_is_refused(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "mapping:\n  rules:\n"
        "    - {id: ghost, provider: corp-okta, when: {claim: sub, present: true},\n"
        "       roles: [ghost]}\n",
        encoding="utf-8",
    )
    result = mapping_test(home, "okta_bob.json", "corp-okta", "--config", str(config), "--json")
    assert result.exit_code == 1
    assert trust_of(result) == {
        role_arn("ghost"): (False, f"the role `ghost` does not exist in account {ACCOUNT}")
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["--claims", str(DATA / "absent.json")], "cannot read the file", id="no-file"),
        pytest.param(["--claims", str(DATA / "bridge.yaml")], "not valid JSON", id="not-json"),
        pytest.param(
            ["--config", str(DATA / "absent.yaml")], "cannot read the file", id="no-config"
        ),
    ],
)
def test_bad_input_exits_2(home: Path, args: list[str], words: str) -> None:
    base = ["mapping", "test", "--home", str(home), "--provider", "corp-okta"]
    if "--claims" not in args:
        base += ["--claims", str(DATA / "okta_bob.json")]
    result = invoke(*base, *args)
    assert result.exit_code == 2
    assert words in result.output


def test_rules_with_faults_exit_2_naming_each(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "mapping:\n  rules:\n    - {id: a, provider: p, when: {claim: g, regex: '('}, roles: []}\n",
        encoding="utf-8",
    )
    result = mapping_test(home, "okta_bob.json", "corp-okta", "--config", str(config))
    assert result.exit_code == 2
    assert "mapping.rules[0].when.regex" in result.output
    assert "mapping.rules[0].roles" in result.output


def test_unknown_provider_without_iss_exits_2(home: Path, tmp_path: Path) -> None:
    claims = tmp_path / "no-iss.json"
    claims.write_text('{"sub": "x", "groups": ["staff"]}', encoding="utf-8")
    result = invoke(
        "mapping", "test", "--home", str(home), "--provider", "nowhere", "--claims", str(claims)
    )
    assert result.exit_code == 2
    assert "`nowhere` is neither a login provider nor an IAM SAML provider" in result.output


def test_diff_shows_whose_roles_change() -> None:
    result = invoke(
        "mapping", "diff", str(DATA / "bridge.yaml"), str(DATA / "bridge-new.yaml"),
        "--claims", str(DATA),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "adfs_frank.json (corp-adfs, CONTOSO\\frank): "
        "unchanged [readonly, admin, billing-developer]",
        "entra_dana.json (corp-entra, AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ): "
        "unchanged [admin]",
        "entra_evan_overage.json (corp-entra, BBBBBBBBBBBBBBBBBBBBBIkzqFVrSaSaFHy782bbtaQ): "
        "unchanged []",
        "okta_alice.json (corp-okta, 00u1a2b3c4D5e6F7g8h9): +payments-engineer +search-engineer "
        "-payments-developer -search-developer -readonly",
        "okta_bob.json (corp-okta, 00u9z8y7x6W5v4U3t2s1): -readonly",
        "okta_carol.json (corp-okta, 00u5carol0000000000): unchanged []",
        "2 of 6 would change",
    ]


def test_diff_json_and_provider_option(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"groups": ["staff"]}', encoding="utf-8")
    args = ["mapping", "diff", str(DATA / "bridge.yaml"), str(DATA / "bridge-new.yaml")]
    missing = invoke(*args, "--claims", str(tmp_path))
    assert missing.exit_code == 2
    assert "no `provider` key and no --provider option" in missing.output
    result = invoke(*args, "--claims", str(tmp_path), "--provider", "corp-okta", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == [
        {
            "file": "x.json",
            "provider": "corp-okta",
            "subject": "",
            "old": ["readonly"],
            "new": [],
            "added": [],
            "removed": ["readonly"],
        }
    ]


def test_diff_of_an_empty_folder_exits_2(tmp_path: Path) -> None:
    result = invoke(
        "mapping", "diff", str(DATA / "bridge.yaml"), str(DATA / "bridge.yaml"),
        "--claims", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no `*.json` claims files" in result.output


def run_bridge(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_config_validate_runs_the_examples(home: Path) -> None:
    result = run_bridge("config", "validate", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout


def test_config_validate_reports_a_failing_example(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "home"
    other.mkdir()
    (other / "bridge.yaml").write_text(
        f"account_id: '{ACCOUNT}'\n"
        "mapping:\n  rules:\n"
        "    - id: teams\n      provider: corp-okta\n"
        "      when: {claim: groups, regex: '^team-(.*)$'}\n      roles: ['$1-dev']\n"
        "      examples:\n"
        "        - {claims: {groups: [team-a]}, roles: [a-dev]}\n"
        "        - {claims: {groups: [team-a]}, roles: [b-dev]}\n",
        encoding="utf-8",
    )
    result = run_bridge("config", "validate", "--home", str(other))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: mapping.rules[0].examples[1]: rule `teams` yields [`a-dev`]")
    assert str(other / "bridge.yaml") in line


def test_the_server_refuses_rules_with_faults(tmp_path: Path) -> None:
    (tmp_path / "bridge.yaml").write_text(
        "mapping:\n  rules:\n    - {id: a, provider: p, when: {claim: g, glob: '*'}, roles: [x]}\n"
        "    - {id: a, provider: p, when: {claim: g, regex: '['}, roles: [x]}\n",
        encoding="utf-8",
    )
    result = run_bridge("config", "validate", "--home", str(tmp_path))
    assert result.returncode == 2
    keys = [line.split(": ")[1] for line in result.stderr.splitlines()]
    assert keys == ["mapping.rules[1].when.regex", "mapping.rules[1].id"]


def test_mapping_test_exit_status_through_main(home: Path) -> None:
    granted = run_bridge(
        "mapping", "test", "--home", str(home), "--provider", "corp-okta",
        "--claims", str(DATA / "okta_alice.json"),
    )  # fmt: skip
    refused = run_bridge(
        "mapping", "test", "--home", str(home), "--provider", "corp-okta",
        "--claims", str(DATA / "okta_carol.json"),
    )  # fmt: skip
    assert (granted.returncode, refused.returncode) == (0, 1), granted.stderr + refused.stderr
