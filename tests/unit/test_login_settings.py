"""`login_providers:` in bridge.yaml: both protocols, defaults, and every fault with its key."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.errors import ConfigError
from bridge.login_settings import (
    OIDCLoginProvider,
    SAMLLoginProvider,
    client_secret,
    secret_env_name,
    warn_insecure,
)
from bridge.settings import load_settings

OIDC = {
    "protocol": "oidc",
    "display_name": "Corp Okta",
    "issuer": "https://corp.okta.example",
    "client_id": "bridge",
}
SAML = {"protocol": "saml", "display_name": "Corp SAML", "saml_provider": "corp"}
ENV = {"BRIDGE_LOGIN_CORP_OKTA_CLIENT_SECRET": "s3cret"}


def _load(
    tmp_path: Path, providers: dict[str, Any], environ: dict[str, str] | None = None, **top: Any
) -> Any:
    text = yaml.safe_dump({"login_providers": providers, **top})
    (tmp_path / "bridge.yaml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path, environ=ENV if environ is None else environ)


def test_both_protocols_with_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path, {"corp-okta": OIDC, "corp-saml": SAML})
    okta, saml = settings.login_providers["corp-okta"], settings.login_providers["corp-saml"]
    assert isinstance(okta, OIDCLoginProvider) and isinstance(saml, SAMLLoginProvider)
    assert okta.scopes == ("openid", "email", "profile") and okta.groups_claim == "groups"
    assert (saml.binding, saml.sign_requests, saml.allow_idp_initiated) == (
        "redirect",
        "auto",
        False,
    )
    assert client_secret("corp-okta", okta, ENV) == "s3cret"


@pytest.mark.parametrize(
    ("providers", "key", "fragment"),
    [
        pytest.param(
            {"corp-okta": {**OIDC, "issuer": "http://corp.example"}},
            "login_providers.corp-okta.issuer",
            "only `https://`",
            id="plain-http-issuer",
        ),
        pytest.param(
            {"corp-okta": {**OIDC, "scopes": ["email"]}},
            "login_providers.corp-okta.scopes",
            "must include `openid`",
            id="no-openid",
        ),
        pytest.param(
            {"corp-okta": {**OIDC, "colour": "red"}},
            "login_providers.corp-okta.colour",
            "unknown key",
            id="unknown-key",
        ),
        pytest.param(
            {"corp-saml": {**SAML, "binding": "artifact"}},
            "login_providers.corp-saml.binding",
            "",
            id="bad-binding",
        ),
        pytest.param(
            {"corp-saml": {**SAML, "saml_provider": "bad name"}},
            "login_providers.corp-saml.saml_provider",
            "not an IAM SAML provider name",
            id="bad-saml-provider",
        ),
        pytest.param(
            {"x": {"protocol": "ldap", "display_name": "x"}},
            "login_providers.x",
            "",
            id="unknown-protocol",
        ),
        pytest.param(
            {"corp-okta": {**OIDC, "overage": {"lookup": "url"}}},
            "login_providers.corp-okta.overage",
            "needs a `url`",
            id="overage-lookup-without-url",
        ),
        pytest.param({"local": SAML}, "login_providers", "reserved", id="reserved-name"),
        pytest.param({"Corp": SAML}, "login_providers", "lower-case", id="bad-name"),
        pytest.param(
            {"other": OIDC},
            "login_providers.other.client_secret_file",
            "BRIDGE_LOGIN_OTHER_CLIENT_SECRET",
            id="no-secret",
        ),
        pytest.param(
            {"corp-okta": {**OIDC, "client_secret": "inline"}},
            "login_providers.corp-okta.client_secret",
            "only in development mode",
            id="inline-secret-outside-development",
        ),
    ],
)
def test_faults_name_their_key(
    tmp_path: Path, providers: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, providers, environ={})
    found = [message for fault, message in caught.value.faults if fault == key]
    assert found, caught.value.faults
    assert fragment in found[0]


def test_secret_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    provider = {**OIDC, "client_secret_file": str(secret)}
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"corp-okta": provider}, environ={})
    assert "chmod 600" in dict(caught.value.faults)["login_providers.corp-okta.client_secret_file"]
    secret.chmod(0o600)
    okta = _load(tmp_path, {"corp-okta": provider}, environ={}).login_providers["corp-okta"]
    assert client_secret("corp-okta", okta, {}) == "s3cret"


def test_inline_secret_in_development_is_loud(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _load(
        tmp_path, {"corp-okta": {**OIDC, "client_secret": "inline"}}, environ={}, development=True
    )
    assert warn_insecure(settings.login_providers, logging.getLogger("bridge")) == 1
    assert "insecure: client secret of login provider corp-okta" in caplog.text
    assert "inline" not in caplog.text.replace("is inline", "")


def test_secret_env_name() -> None:
    assert secret_env_name("corp-okta.eu") == "BRIDGE_LOGIN_CORP_OKTA_EU_CLIENT_SECRET"
