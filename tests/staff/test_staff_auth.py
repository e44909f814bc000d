"""Staff sign-in: passwords, session cookie, CSRF, failed-login limit, logout."""

from tests.helpers import StaffClient


def csrf(client):
    return client.get("/api/v1/auth/csrf").json["csrf_token"]


def login(client, email, password, token=None):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       headers={"X-CSRFToken": token or csrf(client)})


def test_session_cookie_is_httponly_and_samesite(app, demo):
    client = app.test_client()
    response = login(client, "monitor@example.org", demo["monitor@example.org"])
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test service runs on http://127.0.0.1


def test_cookie_is_secure_when_the_public_url_is_https(settings, clock, engine, demo):
    from dataclasses import replace

    from pro_server import create_app

    app = create_app(replace(settings, public_base_url="https://pro.example.org"), clock=clock,
                     engine=engine)
    client = app.test_client()
    base = "https://pro.example.org"
    token = client.get("/api/v1/auth/csrf", base_url=base).json["csrf_token"]
    response = client.post("/api/v1/auth/login", json={
        "email": "monitor@example.org", "password": demo["monitor@example.org"]},
        headers={"X-CSRFToken": token, "Referer": f"{base}/"}, base_url=base)
    assert response.status_code == 200, response.json
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_and_unknown_email_get_the_same_401(app, demo):
    client = app.test_client()
    wrong = login(client, "monitor@example.org", "wrong-password-123")
    unknown = login(client, "nobody@example.org", "wrong-password-123")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_failed_logins_are_limited(app, demo):
    client = app.test_client()
    token = csrf(client)
    statuses = [login(client, "monitor@example.org", f"guess-{n}-password", token).status_code
                for n in range(6)]
    assert statuses == [401] * 5 + [429]
    right = login(client, "monitor@example.org", demo["monitor@example.org"], token)
    assert right.status_code == 429
    assert "Too many attempts" in right.json["message"]


def test_successful_logins_do_not_count_against_the_limit(app, demo):
    client = app.test_client()
    for _ in range(7):
        assert login(client, "monitor@example.org", demo["monitor@example.org"]).status_code == 200


def test_login_issues_a_fresh_csrf_token_and_retires_the_old_one(app, demo):
    client = app.test_client()
    old = csrf(client)
    response = login(client, "coordinator.gnv@example.org", demo["coordinator.gnv@example.org"],
                     old)
    assert response.json["csrf_token"] != old
    refused = client.patch("/api/v1/participants/1", json={"language": "es"},
                           headers={"X-CSRFToken": old})
    assert refused.status_code == 400


def test_state_change_without_csrf_token_is_refused(app, demo):
    client = app.test_client()
    login(client, "coordinator.gnv@example.org", demo["coordinator.gnv@example.org"])
    response = client.post("/api/v1/participants", json={"subject_key": "GNV-900"})
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]


def test_logout_ends_the_session_even_for_a_copied_cookie(app, demo):
    client = StaffClient.login(app.test_client(), "monitor@example.org",
                               demo["monitor@example.org"])
    stolen = client.client.get_cookie("pro_session").value
    assert client.post("/api/v1/auth/logout").status_code == 204
    replay = app.test_client()
    replay.set_cookie("pro_session", stolen)
    assert replay.get("/api/v1/auth/me").status_code == 401


def test_me_names_the_user_role_and_sites(staff_client):
    me = staff_client("coordinator.mia@example.org").get("/api/v1/auth/me").json
    assert (me["email"], me["role"]) == ("coordinator.mia@example.org", "coordinator")
    assert [s["code"] for s in me["sites"]] == ["MIA"]
