"""The session cookie slides its 8-hour idle timeout, sent again at most once a minute.

The cookie's age is counted on its signer's clock (itsdangerous' `get_timestamp`), which
these tests move: its signing time, its expiry check and the refresh rule all read it."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from pro_server.web import REFRESH_AFTER_SECONDS
from tests.helpers import StaffClient
from tests.participant_web.support import ParticipantClient, token_for

IDLE_TIMEOUT = 8 * 3600


class CookieTime:
    def __init__(self) -> None:
        self.now = int(time.time())

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def cookie_time(monkeypatch: pytest.MonkeyPatch) -> CookieTime:
    now = CookieTime()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now.now)
    return now


def _signed_in(app, ctx_factory) -> ParticipantClient:
    client = ParticipantClient(app.test_client())
    response = client.open_session(token_for(ctx_factory(), "GNV-004"))
    assert response.status_code == 200
    assert "pro_session=" in response.headers["Set-Cookie"]  # a changed session: sent
    return client


def _cookie(client: ParticipantClient) -> str:
    return client.client.get_cookie("pro_session").value


def test_an_unchanged_session_is_not_sent_again_within_a_minute(app, demo, ctx_factory,
                                                                 cookie_time):
    client = _signed_in(app, ctx_factory)
    first = _cookie(client)
    for seconds in (1, 30, REFRESH_AFTER_SECONDS - 32):
        cookie_time.advance(seconds)
        for response in (client.get("/api/v1/p/home"), client.get("/api/v1/auth/csrf")):
            assert response.status_code == 200
            assert "Set-Cookie" not in response.headers
            assert "Cookie" in response.headers["Vary"]  # it read the session
    assert _cookie(client) == first


def test_a_cookie_a_minute_old_is_sent_again_and_slides_the_timeout(app, demo, ctx_factory,
                                                                     cookie_time):
    client = _signed_in(app, ctx_factory)
    first = _cookie(client)
    cookie_time.advance(REFRESH_AFTER_SECONDS)
    response = client.get("/api/v1/p/home")
    assert response.status_code == 200
    assert "pro_session=" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert _cookie(client) != first
    cookie_time.advance(1)
    assert "Set-Cookie" not in client.get("/api/v1/p/home").headers  # the new one is new
    # 8 hours after the first cookie, but within 8 hours of the one sent a minute later.
    cookie_time.advance(IDLE_TIMEOUT - REFRESH_AFTER_SECONDS)
    assert client.get("/api/v1/p/home").status_code == 200


def test_a_session_idle_8_hours_ends(app, demo, ctx_factory, cookie_time):
    client = _signed_in(app, ctx_factory)
    cookie_time.advance(REFRESH_AFTER_SECONDS - 1)
    assert client.get("/api/v1/p/home").status_code == 200
    # Idle a minute less than the timeout (the cookie is as old as that and a minute more):
    # still signed in, and the cookie is sent again.
    cookie_time.advance(IDLE_TIMEOUT - REFRESH_AFTER_SECONDS)
    assert "pro_session=" in client.get("/api/v1/p/home").headers["Set-Cookie"]
    cookie_time.advance(IDLE_TIMEOUT + 1)  # 8 hours and a second since the last request
    response = client.get("/api/v1/p/home")
    assert response.status_code == 401
    assert response.json["errors"]["state"] == "no_session"


def test_a_changed_session_is_always_sent(app, demo, ctx_factory, cookie_time):
    client = app.test_client()
    email = "coordinator.gnv@example.org"
    fresh = client.get("/api/v1/auth/csrf")  # a new session with its CSRF secret
    assert "pro_session=" in fresh.headers["Set-Cookie"]
    cookie_time.advance(1)
    login = client.post("/api/v1/auth/login", json={"email": email, "password": demo[email]},
                        headers={"X-CSRFToken": fresh.json["csrf_token"]})
    assert login.status_code == 200
    assert "pro_session=" in login.headers["Set-Cookie"]
    cookie_time.advance(1)
    participant = ParticipantClient(client)
    opened = participant.open_session(token_for(ctx_factory(), "GNV-004"))
    assert "pro_session=" in opened.headers["Set-Cookie"]
    assert client.get("/api/v1/auth/me").status_code == 401  # the staff session is gone
    cookie_time.advance(1)
    staff = StaffClient.login(client, email, demo[email])
    cookie_time.advance(1)
    out = staff.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert "pro_session=;" in out.headers["Set-Cookie"]  # emptied: deleted
    assert client.get_cookie("pro_session") is None
