"""The `Secure` cookie rule and the Content-Security-Policy text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.login.headers import content_security_policy
from bridge.login.session import cookie_secure


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        pytest.param("https://bridge.example.com", True, id="https"),
        pytest.param("https://127.0.0.1:8443", True, id="https-loopback"),
        pytest.param("http://127.0.0.1:5000", False, id="http-ipv4-loopback"),
        pytest.param("http://localhost:5000", False, id="http-localhost"),
        pytest.param("http://[::1]:5000", False, id="http-ipv6-loopback"),
        pytest.param("http://bridge.example.com", True, id="http-public-host"),
        pytest.param("http://127.0.0.1.evil.com", True, id="loopback-lookalike"),
    ],
)
def test_cookie_is_secure_except_plain_http_loopback(base_url: str, secure: bool) -> None:
    assert cookie_secure(base_url) is secure


@pytest.mark.parametrize(
    ("external", "form_action"),
    [
        pytest.param(False, "form-action 'self'", id="normal-page"),
        pytest.param(True, "form-action 'self' https: http:", id="saml-post-binding"),
    ],
)
def test_csp(external: bool, form_action: str) -> None:
    policy = [part.strip() for part in content_security_policy(external).split(";")]
    assert form_action in policy
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in policy
    assert not any("unsafe-inline" in part for part in policy)


TEMPLATES = sorted((Path(__file__).resolve().parents[3] / "bridge/login/templates").glob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates_need_no_inline_script_or_style(template: Path) -> None:
    """The CSP forbids inline code: scripts only by `src`, styles only from the stylesheet."""
    text = template.read_text(encoding="utf-8")
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text) is None
    assert re.search(r"\sstyle=|<style", text) is None
    assert re.search(r"\son[a-z]+=", text) is None
