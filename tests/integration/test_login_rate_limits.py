"""Sign-in endpoints are rate-limited per client address before anything is verified;
sign-ins are counted by provider and result in `/metrics`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.login_app import form_token, make_login_app, sign_in

LIMIT = 3


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/login/local", id="local-password"),
        pytest.param("POST", "/saml/acs", id="saml-acs"),
        pytest.param("GET", "/oidc/callback", id="oidc-callback"),
        pytest.param("GET", "/login/some-provider", id="federated-start"),
        pytest.param("POST", "/oauth/device_authorization", id="cli-device-code"),
    ],
)
def test_sign_in_steps_over_the_limit_get_429(tmp_path: Path, method: str, path: str) -> None:
    app = make_login_app(tmp_path, rate_limit_signin_per_minute=LIMIT)
    client = app.client()
    statuses = [client.open(path, method=method).status_code for _ in range(LIMIT)]
    assert 429 not in statuses
    over = client.open(path, method=method)
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in over.get_data(as_text=True)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_refusals_total{reason="Throttling"} 1.0' in metrics


def test_pages_that_are_not_sign_in_steps_are_not_limited(tmp_path: Path) -> None:
    client = make_login_app(tmp_path, rate_limit_signin_per_minute=1).client()
    assert all(client.get("/login").status_code == 200 for _ in range(5))
    assert all(client.get("/login/local").status_code == 200 for _ in range(5))


def test_sign_ins_are_counted_by_provider_and_result(tmp_path: Path) -> None:
    app = make_login_app(tmp_path)
    app.add_user("dev")
    client = app.client()
    sign_in(client, "dev")
    other = app.client()
    other.post(
        "/login/local",
        data={"csrf_token": form_token(other), "user_name": "dev", "password": "wrong"},
    )
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_sign_ins_total{provider="local",result="success"} 1.0' in metrics
    assert 'bridge_sign_ins_total{provider="local",result="failure"} 1.0' in metrics
