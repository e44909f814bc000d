"""Flask extensions, created bare and bound to the app in create_app()."""

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter._compat import request_context
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from werkzeug.local import LocalProxy


class ProApi(Api):
    """flask-smorest's Api with one error shape: every error has code, status and message.

    No catch-all "default" response in the document: each operation lists the statuses it
    really answers (ApiBlueprint adds the ones every operation of its kind shares), so a
    client, and the fuzzing gate, can tell an undocumented status from a documented one.
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending_docs: list[Callable[[], None]] = []
        self._docs_lock = threading.RLock()
        self._documenting = False
        super().__init__(*args, **kwargs)

    # The OpenAPI document is written when someone first reads it, not at start-up: most
    # processes never do (the scheduler, every CLI command, each test's app), and writing
    # it was two thirds of making an app. Every read of `spec` (flask-smorest's own
    # included) first documents the blueprints registered so far, in their order, so the
    # document is the one an eager registration writes.
    @property
    def spec(self) -> Any:
        if self._pending_docs:
            with self._docs_lock:  # another thread waits; this one (documenting) re-enters
                if not self._documenting:
                    self._documenting = True
                    try:
                        while self._pending_docs:
                            self._pending_docs.pop(0)()
                    finally:
                        self._documenting = False
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """flask-smorest's registration, with the blueprint's views documented later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

        def document() -> None:
            blp.register_views_in_doc(self, self._app, self._spec, name=name,
                                      parameters=parameters)
            self._spec.tag({"name": name, "description": blp.description})

        self._pending_docs.append(document)

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

class ProLimiter(Limiter):
    """flask-limiter, its before-request check skipped while it has nothing to check.

    Before every request flask-limiter resolves the limits that apply without a view's own
    decorator: application, default, meta and blueprint limits (and its in-memory fallback's).
    The project declares none: its limits sit on views (`limiter.limit` on a MethodView), and
    the decorator checks those itself when the view runs. Resolving nothing cost every
    participant request a tenth of its framework time. Should any of those limits be declared
    (or the fallback configured), the check runs before every request, as flask-limiter's."""

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        if in_middleware and not self._limits_before_views():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def init_app(self, app: Flask) -> None:
        """flask-limiter's, its after-request and teardown hooks run only in a request that
        looked at a limit of this limiter: most look at none (their views have none)."""
        super().init_app(app)
        inject = getattr(Limiter, "_Limiter__inject_headers")  # noqa: B009 (a private name)
        release = getattr(self, "_Limiter__release_context")  # noqa: B009
        app.after_request_funcs[None] = [
            self._inject_headers_if_limited
            if isinstance(hook, partial) and hook.func is inject and hook.args == (self,)
            else hook for hook in app.after_request_funcs.get(None, [])]
        app.teardown_request_funcs[None] = [
            self._release_context_if_limited if hook == release else hook
            for hook in app.teardown_request_funcs.get(None, [])]

    def _looked_at_limits(self) -> bool:
        """Whether flask-limiter made this limiter's context in this request: it does when it
        first looks at a limit, and keeps there every limit, deduction and header to send."""
        # Read from the context's attributes: getattr with a default, on a request that has
        # none (most), makes and drops an AttributeError each time.
        context = cast("LocalProxy[Any]", request_context())._get_current_object()
        contexts = vars(context).get("_limiter_request_context")
        return contexts is not None and self in contexts

    def _inject_headers_if_limited(self, response: Response) -> Response:
        if self._looked_at_limits():
            return getattr(self, "_Limiter__inject_headers")(response)  # noqa: B009
        return response

    def _release_context_if_limited(self, exc: BaseException | None = None) -> None:
        if self._looked_at_limits():
            getattr(self, "_Limiter__release_context")(exc)  # noqa: B009

    def _limits_before_views(self) -> bool:
        """Whether a limit other than a view's own decorator's could apply to a request."""
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits
                    or manager._blueprint_limits or self._meta_limits
                    or self._in_memory_fallback_enabled)


class ProCSRFProtect(CSRFProtect):
    """flask-wtf's CSRF protection, without its before-request hook when the app turns the
    check that hook makes off (WTF_CSRF_CHECK_DEFAULT False: the app calls `protect()` where
    a request needs it, pro_server.app). The hook would return at once in every request."""

    def init_app(self, app: Flask) -> None:
        before = list(app.before_request_funcs.get(None, []))
        super().init_app(app)
        if not app.config["WTF_CSRF_CHECK_DEFAULT"]:
            app.before_request_funcs[None] = [
                hook for hook in app.before_request_funcs.get(None, []) if hook in before]


csrf = ProCSRFProtect()
limiter = ProLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
