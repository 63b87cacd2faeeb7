"""Per-provider SAML settings in bridge.yaml: defaults, limits, faults with their key path."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.saml_settings import (
    SAMLProviderSettings,
    metadata_urls,
    provider_settings,
    warn_insecure,
)
from bridge.settings import load_settings


def _load(tmp_path: Path, yaml_text: str) -> dict[str, SAMLProviderSettings]:
    (tmp_path / "bridge.yaml").write_text(yaml_text, encoding="utf-8")
    return load_settings(tmp_path, environ={}).saml_providers


def _faults(tmp_path: Path, yaml_text: str) -> dict[str, str]:
    (tmp_path / "bridge.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    return dict(caught.value.faults)


def test_a_provider_without_an_entry_gets_the_defaults(tmp_path: Path) -> None:
    providers = _load(tmp_path, "saml_providers:\n  corp:\n    allow_sha1: true\n")
    other = provider_settings(providers, "other")
    assert (other.clock_skew, other.allow_sha1, other.metadata_url) == (
        timedelta(seconds=60),
        False,
        None,
    )
    assert provider_settings(providers, "corp").allow_sha1 is True


@pytest.mark.parametrize(
    ("entry", "skew", "sha1", "url"),
    [
        ("clock_skew_seconds: 0", 0, False, None),
        ("clock_skew_seconds: 600", 600, False, None),
        ("allow_sha1: true", 60, True, None),
        (
            "metadata_url: https://idp.example.com/md.xml",
            60,
            False,
            "https://idp.example.com/md.xml",
        ),
        ("metadata_url: http://127.0.0.1:8080/md", 60, False, "http://127.0.0.1:8080/md"),
    ],
    ids=["skew-zero", "skew-max", "sha1", "https-url", "loopback-http-url"],
)
def test_valid_entries_are_read(
    tmp_path: Path, entry: str, skew: int, sha1: bool, url: str | None
) -> None:
    corp = _load(tmp_path, f"saml_providers:\n  corp:\n    {entry}\n")["corp"]
    assert (corp.clock_skew_seconds, corp.allow_sha1, corp.metadata_url) == (skew, sha1, url)


@pytest.mark.parametrize(
    ("entry", "key", "expected"),
    [
        (
            "clock_skew_seconds: 601",
            "saml_providers.corp.clock_skew_seconds",
            "less than or equal to 600",
        ),
        (
            "clock_skew_seconds: -1",
            "saml_providers.corp.clock_skew_seconds",
            "greater than or equal to 0",
        ),
        ("clock_skew_seconds: '60'", "saml_providers.corp.clock_skew_seconds", "valid integer"),
        ("allow_sha1: maybe", "saml_providers.corp.allow_sha1", "valid boolean"),
        (
            "metadata_url: http://idp.example.com/md",
            "saml_providers.corp.metadata_url",
            "only `https://`",
        ),
        ("metadata_url: not a url", "saml_providers.corp.metadata_url", "cannot be fetched"),
        ("colour: blue", "saml_providers.corp.colour", "unknown key"),
    ],
    ids=[
        "skew-too-large",
        "skew-negative",
        "skew-string",
        "sha1-not-bool",
        "plain-http",
        "no-host",
        "unknown-key",
    ],
)
def test_faults_name_the_key_path(tmp_path: Path, entry: str, key: str, expected: str) -> None:
    faults = _faults(tmp_path, f"saml_providers:\n  corp:\n    {entry}\n")
    assert list(faults) == [key]
    assert expected in faults[key]


def test_every_fault_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "saml_providers:\n"
        "  corp:\n    clock_skew_seconds: 900\n    allow_sha1: 3\n"
        "  lab:\n    metadata_url: ftp://x/y\n"
        "metadata_refresh_seconds: 5\n"
    )
    assert sorted(_faults(tmp_path, text)) == [
        "metadata_refresh_seconds",
        "saml_providers.corp.allow_sha1",
        "saml_providers.corp.clock_skew_seconds",
        "saml_providers.lab.metadata_url",
    ]


def test_a_provider_name_iam_would_refuse_is_a_fault(tmp_path: Path) -> None:
    faults = _faults(tmp_path, "saml_providers:\n  'corp idp':\n    allow_sha1: false\n")
    assert list(faults) == ["saml_providers"]
    assert "`corp idp`" in faults["saml_providers"]


def test_metadata_urls_lists_only_providers_with_one(tmp_path: Path) -> None:
    providers = _load(
        tmp_path,
        "saml_providers:\n  corp:\n    metadata_url: https://a.test/md\n"
        "  lab:\n    allow_sha1: false\n",
    )
    assert metadata_urls(providers) == {"corp": "https://a.test/md"}


def test_sha1_providers_are_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    providers = _load(
        tmp_path,
        "saml_providers:\n  corp:\n    allow_sha1: true\n  lab:\n    allow_sha1: false\n",
    )
    with caplog.at_level(logging.WARNING, logger="test.saml"):
        count = warn_insecure(providers, logging.getLogger("test.saml"))
    assert count == 1
    assert [r.getMessage() for r in caplog.records] == [
        "insecure: SHA-1 signatures accepted for provider corp"
    ]
    assert caplog.records[0].levelno == logging.WARNING


@pytest.mark.parametrize(
    ("env", "expected_key", "expected_cert"),
    [
        ({}, "sp-key.pem", "sp-cert.pem"),
        (
            {"BRIDGE_SP_KEY_FILE": "keys/k.pem", "BRIDGE_SP_CERT_FILE": "/etc/c.pem"},
            "keys/k.pem",
            "/etc/c.pem",
        ),
    ],
    ids=["home-default", "configured"],
)
def test_sp_key_files(
    tmp_path: Path, env: dict[str, str], expected_key: str, expected_cert: str
) -> None:
    settings = load_settings(tmp_path, environ=env)
    home = tmp_path.resolve()
    assert settings.effective_sp_key_file == home / expected_key
    assert settings.effective_sp_cert_file == home / expected_cert
    assert settings.sp_files_are_default is (not env)
