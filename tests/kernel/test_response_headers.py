"""Every response carries its request id and the security headers; a header the response
sets itself is kept, and the request id is the response's only one."""

from __future__ import annotations

import re

from flask import Response

SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY"}


def _headers(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers if k in {*SECURITY, "X-Request-ID"}]


def test_an_api_answer_and_an_error_carry_them(app):
    client = app.test_client()
    for response in (client.get("/api/v1/auth/csrf"), client.get("/api/v1/nothing-here"),
                     client.post("/api/v1/auth/login", json={})):
        names = [k for k, _ in _headers(response)]
        assert names == ["X-Request-ID", *SECURITY], names  # once each, in this order
        assert {k: response.headers[k] for k in SECURITY} == SECURITY
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_the_callers_request_id_is_echoed_and_a_bad_one_replaced(app):
    client = app.test_client()
    echoed = client.get("/api/v1/auth/csrf", headers={"X-Request-ID": "ticket-4711-abc"})
    assert echoed.headers["X-Request-ID"] == "ticket-4711-abc"
    replaced = client.get("/api/v1/auth/csrf", headers={"X-Request-ID": "bad id\u00e9"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])


def test_a_header_the_response_sets_is_kept(app):
    @app.get("/own-headers")
    def own() -> Response:
        response = Response("x")
        response.headers["X-Request-ID"] = "set-by-the-view"
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    response = app.test_client().get("/own-headers", headers={"X-Request-ID": "abcdefgh"})
    assert response.headers.getlist("X-Request-ID") == ["abcdefgh"]  # the request's, once
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with app.test_client().get("/p") as page:
        assert page.headers.getlist("Referrer-Policy") == ["same-origin"]  # the page's own
        assert page.headers["X-Frame-Options"] == "DENY"
