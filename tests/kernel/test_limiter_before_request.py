"""ProLimiter skips flask-limiter's before-request check only while no limit but a view's own
could apply: a view's limit is still enforced by its decorator, and a default, application or
blueprint limit, once declared, is checked before every request again. Its after-request and
teardown hooks run only in a request that looked at one of its limits: a limited view still
sends its rate-limit headers and deducts on its condition; a view without one sends none."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter

from pro_server.extensions import ProLimiter

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _app(limiter: ProLimiter, blueprint: Blueprint | None = None) -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"

    @app.get("/free")
    def free() -> str:
        return "ok"

    @app.get("/limited")
    @limiter.limit("1 per minute")
    def limited() -> str:
        return "ok"

    @app.get("/failing")
    @limiter.limit("2 per minute", deduct_when=lambda r: r.status_code == 401)
    def failing() -> Response:
        return Response("no", status=401 if request.args.get("fail") else 200)

    if blueprint is not None:
        app.register_blueprint(blueprint)
    limiter.init_app(app)
    return app


def _statuses(app: Flask, path: str, n: int = 3) -> list[int]:
    client = app.test_client()
    return [client.get(path).status_code for _ in range(n)]


def test_a_view_limit_is_enforced_and_other_requests_resolve_nothing(monkeypatch):
    limiter = ProLimiter(key_func=lambda: "one-address")
    app = _app(limiter)
    resolved: list[Any] = []
    original = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(limiter.limit_manager, "resolve_limits",
                        lambda *a, **k: resolved.append(a) or original(*a, **k))
    assert _statuses(app, "/free") == [200, 200, 200]
    assert resolved == []  # nothing looked up before an undecorated view
    assert _statuses(app, "/limited") == [200, 429, 429]


def test_a_default_limit_is_checked_before_every_request():
    limiter = ProLimiter(key_func=lambda: "one-address", default_limits=["2 per minute"])
    assert _statuses(_app(limiter), "/free") == [200, 200, 429]


def test_an_application_limit_is_checked_before_every_request():
    limiter = ProLimiter(key_func=lambda: "one-address", application_limits=["2 per minute"])
    assert _statuses(_app(limiter), "/free") == [200, 200, 429]


def test_a_blueprint_limit_is_checked_before_every_request():
    limiter = ProLimiter(key_func=lambda: "one-address")
    blueprint = Blueprint("part", __name__)

    @blueprint.get("/part")
    def part() -> str:
        return "ok"

    limiter.limit("1 per minute")(blueprint)
    assert _statuses(_app(limiter, blueprint), "/part") == [200, 429, 429]


def test_flask_limiters_hooks_are_replaced_by_the_conditional_ones():
    limiter = ProLimiter(key_func=lambda: "one-address", headers_enabled=True)
    app = _app(limiter)
    after, teardown = app.after_request_funcs[None], app.teardown_request_funcs[None]
    assert limiter._inject_headers_if_limited in after
    assert limiter._release_context_if_limited in teardown
    inject = getattr(Limiter, "_Limiter__inject_headers")  # noqa: B009
    assert not [h for h in after if isinstance(h, partial) and h.func is inject]
    assert getattr(limiter, "_Limiter__release_context") not in teardown  # noqa: B009


def test_a_limited_view_sends_its_headers_and_a_free_one_none():
    app = _app(ProLimiter(key_func=lambda: "one-address", headers_enabled=True))
    client = app.test_client()
    free = client.get("/free")
    assert [h for h in RATE_HEADERS if h in free.headers] == []
    first, second = client.get("/limited"), client.get("/limited")
    assert [first.status_code, second.status_code] == [200, 429]
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" in second.headers
    after = client.get("/free")  # the limited requests' state went with them
    assert [h for h in (*RATE_HEADERS, "Retry-After") if h in after.headers] == []


def test_a_conditional_deduction_is_still_made_after_the_view():
    client = _app(ProLimiter(key_func=lambda: "one-address")).test_client()
    assert [client.get("/failing").status_code for _ in range(4)] == [200] * 4
    assert [client.get("/failing?fail=1").status_code for _ in range(3)] == [401, 401, 429]
