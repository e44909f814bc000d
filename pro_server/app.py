"""The application factory: a short, linear list of set-up steps."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from inspect import iscoroutinefunction
from pathlib import Path
from types import MethodType
from typing import Any

import swagger_ui_bundle
from flask import Flask, Response, jsonify
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from pro_server import crypto
from pro_server.api_blueprint import API_DESCRIPTION, document_security_schemes
from pro_server.clock import Clock, FixedClock, OffsetClock, SystemClock
from pro_server.config import Settings, load_settings
from pro_server.db import make_engine, make_session_factory
from pro_server.errors import DomainError, Unauthorized
from pro_server.events import EventBus
from pro_server.extensions import ProApi, csrf, limiter
from pro_server.features import feature_modules
from pro_server.logs import configure_logging
from pro_server.request_input import install as install_request_input
from pro_server.resources import static_dir
from pro_server.static_files import content_security_policy, static_file
from pro_server.web import (
    SessionCookie,
    bearer_actor,
    bearer_token,
    close_db_session,
    current_request,
    request_id,
)

log = logging.getLogger(__name__)


class ProFlask(Flask):
    """Flask, asking once per hook or view whether it is an `async def` function.

    Flask asks `inspect.iscoroutinefunction` of every before/after/teardown hook and the
    view on every request (18 times per participant request). The answer cannot change for
    a function, so it is kept, weakly: a hook made for one request goes with it. A bound
    method has its function's answer, and is kept under that function: a MethodView's
    methods are bound anew in every request (its instance is new), and a method kept under
    itself would be asked, kept and dropped again each time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._is_async: weakref.WeakKeyDictionary[Callable[..., Any], bool] = (
            weakref.WeakKeyDictionary())

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key = func.__func__ if type(func) is MethodType else func
        try:
            is_async = self._is_async.get(key)
            if is_async is None:
                is_async = self._is_async[key] = iscoroutinefunction(key)
        except TypeError:  # not hashable, or no weak reference to it
            is_async = iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    engine = engine or make_engine(settings.database_url)
    crypto.bind(engine, settings.keyring)

    app = ProFlask(__name__, static_folder=None, instance_path=str(settings.instance_path))
    app.config.update(_flask_config(settings))
    app.session_interface = SessionCookie()
    if settings.trusted_proxies:
        # The client's address, scheme and host as the proxies in front report them, so
        # rate limits, audit events and logs see the client, not the proxy. Wrapping
        # wsgi_app is how Flask documents it; its type is a method, hence the ignore.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    clock = clock or default_clock(settings)
    app.extensions["pro"] = {
        "settings": settings,
        "clock": clock,
        "engine": engine,
        "session_factory": make_session_factory(engine, clock),
        # Per app, filled by the features' register(): see pro_server.events and web.bearer_actor.
        "events": EventBus(),
        "bearer_authenticators": [],
    }
    api = ProApi(app)
    document_security_schemes(api)
    app.extensions["pro"]["api"] = api
    csrf.init_app(app)
    limiter.init_app(app)
    limiter.reset()
    install_request_input(app)
    _register_blueprints(app, api)
    _register_error_handlers(app)
    _register_request_hooks(app)
    _register_docs_assets(app)
    from pro_server.cli import pro_cli

    app.cli.add_command(pro_cli)
    return app


def default_clock(settings: Settings) -> Clock:
    """Production reads the system clock; development can freeze it or move it forward."""
    if settings.is_production:
        return SystemClock()
    if settings.fake_now:
        return FixedClock(datetime.fromisoformat(settings.fake_now))
    return OffsetClock(settings.instance_path / "clock_offset")


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "MAX_CONTENT_LENGTH": settings.max_body_bytes,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "SESSION_COOKIE_NAME": "pro_session",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in _csrf_for_cookie_requests
        "WTF_CSRF_SSL_STRICT": settings.secure_cookies,
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        "API_TITLE": "ePRO platform API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {"info": {"description": API_DESCRIPTION}},
    }


def _register_blueprints(app: Flask, api: ProApi) -> None:
    """Every feature registers itself, in the order of pro_server.features.FEATURES."""
    for module in feature_modules():
        if hasattr(module, "register"):
            module.register(app, api)


def error_body(status: int, message: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> tuple[Response, int]:
        return jsonify(error_body(exc.status, exc.message, exc.errors)), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[Response, int]:
        message = f"CSRF check failed: {exc.description} Send the token from GET /api/v1/auth/csrf"
        return jsonify(error_body(400, message)), 400

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> tuple[Response, int]:
        return jsonify(error_body(429, f"Too many attempts; limit is {exc.description}")), 429

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            message = exc.description or HTTPStatus(exc.code or 500).phrase
            return jsonify(error_body(exc.code or 500, message)), exc.code or 500
        log.exception("unhandled error in request %s", request_id())
        return jsonify(error_body(500, f"Internal error; request id {request_id()}")), 500


_SECURITY_HEADERS = tuple((name, name.lower(), value) for name, value in (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
))


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _csrf_for_cookie_requests() -> None:
        """Every state-changing request made with the session cookie needs the CSRF token.

        Calls authenticated by a valid bearer token (the EDC) and signed webhooks carry no
        cookie to ride on, so they skip it. A bearer token that is not valid skips nothing:
        the call is refused (401) whatever cookie it also carries.
        """
        req = current_request()
        if req.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if req.path.startswith(("/webhooks/", "/e/unsubscribe/")):
            return  # signed: a webhook, a one-click unsubscribe (RFC 8058) from a mail program
        if bearer_token():
            if bearer_actor() is None:
                raise Unauthorized("Unknown or revoked API credentials")
            return
        csrf.protect()

    @app.after_request
    def _headers(response: Response) -> Response:
        """The request id, and each security header the response does not set itself.

        The names the response has are read once (werkzeug's `setdefault` reads them all
        for each header, and raises and catches a KeyError for each one it adds)."""
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        if "x-request-id" in present:
            headers["X-Request-ID"] = request_id()
        else:
            headers.add("X-Request-ID", request_id())
        for name, lowered, value in _SECURITY_HEADERS:
            if lowered not in present:
                headers.add(name, value)
        return response

    app.teardown_appcontext(close_db_session)


def _register_docs_assets(app: Flask) -> None:
    """The API docs page (Swagger UI over /api/openapi.json): our page in static/apidocs and
    Swagger UI's files from the installed swagger-ui-bundle package, not a CDN, all under
    the pages' one Content-Security-Policy (flask-smorest's own page has an inline script)."""
    page, csp = static_dir("apidocs"), content_security_policy()

    @app.get("/api/docs")
    def api_docs() -> Response:
        return static_file(page, "index.html", csp)

    @app.get("/api/docs/start.js")
    def api_docs_start() -> Response:
        return static_file(page, "start.js", csp)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return static_file(Path(swagger_ui_bundle.swagger_ui_path), filename, csp)
