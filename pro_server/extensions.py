"""Flask extensions, created bare and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect


class ProApi(Api):
    """flask-smorest's Api with one error shape: every error has code, status and message.

    No catch-all "default" response in the document: each operation lists the statuses it
    really answers (ApiBlueprint adds the ones every operation of its kind shares), so a
    client, and the fuzzing gate, can tell an undocumented status from a documented one.
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        # werkzeug's own headers for the error, e.g. Allow on a 405 (RFC 9110 15.5.6)
        extra = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers = {**extra, **(headers or {})}
        if "message" not in payload:
            errors = payload.get("errors") or {}
            fields = sorted({name for located in errors.values() if isinstance(located, dict)
                             for name in located})
            payload["message"] = (
                f"Invalid value for {', '.join(fields)}" if fields
                else (error.description or payload.get("status", "Error"))
            )
        return payload, code, headers

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
