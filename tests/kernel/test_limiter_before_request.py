"""ProLimiter skips flask-limiter's before-request check only while no limit but a view's own
could apply: a view's limit is still enforced by its decorator, and a default, application or
blueprint limit, once declared, is checked before every request again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from pro_server.extensions import ProLimiter


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
