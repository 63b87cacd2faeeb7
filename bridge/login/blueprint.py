"""The login blueprint: chooser, local sign-in, self-service, portal, sign-out.

Views live in `local.py`, `selfservice.py` and `portal.py`; this module builds the
blueprint, the page for `PageError`, and the security headers. H5's federated views
are a second blueprint (`bridge.login.federated`) sharing the templates and sessions.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge.login import local, portal, rate, selfservice
from bridge.login.headers import apply_security_headers
from bridge.login.session import PageError, current_session

login_blueprint = Blueprint(
    "login",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",  # the app itself answers /static (its own folder, absent)
)


@login_blueprint.app_errorhandler(PageError)
def _page_error(exc: PageError) -> tuple[str, int]:
    return render_template(
        "error.html", title=exc.title, message=exc.message, status=exc.status
    ), exc.status


@login_blueprint.before_app_request
def _index() -> WerkzeugResponse | None:
    """`GET /` without a query string is a person: send them to the portal or the chooser
    (`GET /?Action=...` and `POST /` stay with the Query API)."""
    if request.method != "GET" or request.path != "/" or request.query_string:
        return None
    signed_in = current_session().signed_in is not None
    return redirect("/portal" if signed_in else "/login")


@login_blueprint.app_context_processor
def _template_helpers() -> dict[str, Callable[[], object]]:
    """`csrf_token()` and `signed_in_user()` for every page (the session loads lazily)."""
    return {
        "csrf_token": lambda: current_session().csrf_token,
        "signed_in_user": lambda: current_session().signed_in,
    }


login_blueprint.after_app_request(apply_security_headers)
rate.install(login_blueprint)
local.register(login_blueprint)
selfservice.register(login_blueprint)
portal.register(login_blueprint)
