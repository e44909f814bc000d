"""Serving the dashboard's pages: plain files from static/dashboard, under a strict CSP.

The pages are HTML, CSS and ES modules with no build step; they call the staff JSON API.
Only this origin may provide scripts, styles, images and connections.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, send_from_directory

from pro_server.resources import static_dir

PAGES = static_dir("dashboard")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

bp = Blueprint("dashboard_pages", __name__)


def _serve(filename: str) -> Response:
    response = send_from_directory(PAGES, filename, max_age=0)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def root() -> Response:
    return redirect("/dashboard/", code=302)  # type: ignore[return-value]


@bp.get("/dashboard/")
def index() -> Response:
    return _serve("index.html")


@bp.get("/dashboard/<path:filename>")
def page(filename: str) -> Response:
    return _serve(filename)
