"""Serving the dashboard's pages: plain files from static/dashboard, under the pages' CSP.

The pages are HTML, CSS and ES modules with no build step; they call the staff JSON API.
Their modules import the shared ones (static/shared) as `../../shared/...` from
/dashboard/js/, which the browser resolves to /shared/.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect

from pro_server.resources import static_dir
from pro_server.static_files import content_security_policy, shared_dir, static_file

PAGES = static_dir("dashboard")
CSP = content_security_policy()

bp = Blueprint("dashboard_pages", __name__)


def _serve(filename: str) -> Response:
    return static_file(PAGES, filename, CSP)


@bp.get("/")
def root() -> Response:
    return redirect("/dashboard/", code=302)  # type: ignore[return-value]


@bp.get("/dashboard/")
def index() -> Response:
    return _serve("index.html")


@bp.get("/dashboard/<path:filename>")
def page(filename: str) -> Response:
    return _serve(filename)


@bp.get("/shared/<path:filename>")
def shared(filename: str) -> Response:
    return static_file(shared_dir(), filename, CSP)
