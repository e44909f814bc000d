"""Serving the build-free pages in static/: one Content-Security-Policy, one way to send a file.

Both apps (the dashboard, the participant's page) are HTML, CSS and ES modules loaded as they
are. Only this origin may supply code, styles, fonts, images (and `data:` images) and
connections; no plugins, no `<base>`, forms post only here, no framing. An installable app
also loads its web manifest and its service worker from here (`installable=True`).

`static/shared/` holds the modules both apps import (the DOM builder, the API client). Each
app serves them at the path its own modules' relative imports resolve to, so the same file
works in the browser and under node's test runner.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_from_directory

from pro_server.resources import static_dir

_SELF = "'self'"


def content_security_policy(*, installable: bool = False) -> str:
    """The one policy of every page; `installable` adds the manifest and service worker."""
    directives = {
        "default-src": _SELF, "script-src": _SELF, "style-src": _SELF,
        "img-src": f"{_SELF} data:", "font-src": _SELF, "connect-src": _SELF,
    }
    if installable:
        directives |= {"manifest-src": _SELF, "worker-src": _SELF}
    directives |= {"object-src": "'none'", "base-uri": "'none'", "form-action": _SELF,
                   "frame-ancestors": "'none'"}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def shared_dir() -> Path:
    """The modules both apps import: static/shared/."""
    return static_dir("shared")


def static_file(folder: Path, filename: str, csp: str) -> Response:
    """A file of the pages, revalidated on every load (`no-cache`), under `csp`."""
    # Modules load only with a JavaScript type; do not rely on the host's mime.types.
    mimetype = "text/javascript" if filename.endswith(".js") else None
    response = send_from_directory(folder, filename, max_age=0, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-cache"
    return response
