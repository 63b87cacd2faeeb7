"""`safe_next` follows only same-origin paths; anything else becomes `/portal`."""

from __future__ import annotations

import pytest

from bridge.login.session import safe_next


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/portal", "/portal", id="portal"),
        pytest.param("/account/mfa?x=1", "/account/mfa?x=1", id="path-with-query"),
        pytest.param(None, "/portal", id="missing"),
        pytest.param("", "/portal", id="empty"),
        pytest.param("//evil.com", "/portal", id="scheme-relative"),
        pytest.param("//evil.com/portal", "/portal", id="scheme-relative-with-path"),
        pytest.param("https://evil.com", "/portal", id="absolute-https"),
        pytest.param("http://localhost/portal", "/portal", id="absolute-same-host"),
        pytest.param("/\\evil.com", "/portal", id="backslash"),
        pytest.param("\\\\evil.com", "/portal", id="double-backslash"),
        pytest.param("javascript:alert(1)", "/portal", id="javascript"),
        pytest.param("/\tevil", "/portal", id="control-character"),
        pytest.param("/ /evil.com", "/portal", id="space"),
        pytest.param("portal", "/portal", id="relative"),
        pytest.param("/" + "a" * 3000, "/portal", id="too-long"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
