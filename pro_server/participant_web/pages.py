"""The participant's pages: static files from static/participant/, no build step.

`/p` (and `/p/a/<id>`, a survey) serve the one page; its script reads the token from the
URL fragment, which browsers never send to the server. Only 'self' may supply code,
styles, images, connections, the manifest or the service worker.

The service worker is served from /p/sw.js with a scope of /p (the page itself, which its
default scope /p/ would miss), so the installed app opens offline.

The page's modules (/p/assets/) import the shared ones (static/shared) as `../shared/...`,
which the browser resolves to /p/shared/: inside the worker's scope, cached with the shell.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, jsonify

from pro_server.errors import Unauthorized
from pro_server.participant_web import manifest
from pro_server.participant_web import session as web_session
from pro_server.resources import static_dir
from pro_server.static_files import content_security_policy, shared_dir, static_file

STATIC_DIR = static_dir("participant")
CSP = content_security_policy(installable=True)

bp = Blueprint("participant_pages", __name__)


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    # The page's own API calls send a same-origin Referer (Flask-WTF checks it over HTTPS);
    # nothing leaves the site with a Referer.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _file(folder: Path, filename: str) -> Response:
    return _secure(static_file(folder, filename, CSP))


@bp.get("/p")
@bp.get("/p/a/<int:assessment_id>")
def page(assessment_id: int | None = None) -> Response:
    return _file(STATIC_DIR, "index.html")


@bp.get("/p/assets/<path:filename>")
def asset(filename: str) -> Response:
    return _file(STATIC_DIR, filename)


@bp.get("/p/shared/<path:filename>")
def shared(filename: str) -> Response:
    return _file(shared_dir(), filename)


@bp.get("/p/sw.js")
def service_worker() -> Response:
    response = _file(STATIC_DIR, "sw.js")
    response.headers["Service-Worker-Allowed"] = "/p"
    return response


@bp.get("/p/manifest.webmanifest")
def web_manifest() -> Response:
    try:
        program = web_session.current_participant().study.program_name
    except Unauthorized:
        program = None
    response = jsonify(manifest.manifest(program))
    response.mimetype = "application/manifest+json"
    response.headers["Vary"] = "Cookie"
    return _secure(response)
