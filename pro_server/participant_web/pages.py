"""The participant's pages: static files from static/participant/, no build step.

`/p` (and `/p/a/<id>`, a survey) serve the one page; its script reads the token from the
URL fragment, which browsers never send to the server. Only 'self' may supply code,
styles, images, connections, the manifest or the service worker.

The service worker is served from /p/sw.js with a scope of /p (the page itself, which its
default scope /p/ would miss), so the installed app opens offline.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, send_from_directory

from pro_server.errors import Unauthorized
from pro_server.participant_web import manifest
from pro_server.participant_web import session as web_session
from pro_server.resources import static_dir

STATIC_DIR = static_dir("participant")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

bp = Blueprint("participant_pages", __name__)


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    # The page's own API calls send a same-origin Referer (Flask-WTF checks it over HTTPS);
    # nothing leaves the site with a Referer.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/p")
@bp.get("/p/a/<int:assessment_id>")
def page(assessment_id: int | None = None) -> Response:
    return _secure(send_from_directory(STATIC_DIR, "index.html", max_age=0))


@bp.get("/p/assets/<path:filename>")
def asset(filename: str) -> Response:
    # Modules load only with a JavaScript type; do not rely on the host's mime.types.
    mimetype = "text/javascript" if filename.endswith(".js") else None
    return _secure(send_from_directory(STATIC_DIR, filename, max_age=0, mimetype=mimetype))


@bp.get("/p/sw.js")
def service_worker() -> Response:
    response = send_from_directory(STATIC_DIR, "sw.js", max_age=0, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/p"
    return _secure(response)


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
