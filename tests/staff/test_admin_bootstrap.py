"""An empty server's first admin: `pro admin create`, then a forced password change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.staff.models import StaffUser
from tests.helpers import StaffClient

EMAIL, NAME = "rita.root@hospital.example.org", "Rita Root"
FIRST, CHOSEN = "kJ8#mQ2!vX9zL4pW", "plum vintage orbit 4 cascade"


def create(app, password: str, email: str = EMAIL, *extra: str):
    return app.test_cli_runner().invoke(
        args=["pro", "admin", "create", "--email", email, "--name", NAME, *extra],
        input=password + "\n")


def users(app) -> list[StaffUser]:
    with app.extensions["pro"]["session_factory"]() as session:
        return list(session.scalars(select(StaffUser)))


def events(app, action: str) -> list[AuditEvent]:
    with app.extensions["pro"]["session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id)))


def test_admin_create_reads_the_password_from_stdin_and_audits(app):
    result = create(app, FIRST)
    assert result.exit_code == 0, result.output
    assert "must be changed at first sign-in" in result.output
    assert FIRST not in result.output
    [admin] = users(app)
    assert (admin.email, admin.name, admin.role.value, admin.must_change_password) == (
        EMAIL, NAME, "admin", True)
    [event] = events(app, "staff.create")
    assert event.actor_label == "cli:admin create"
    assert event.after["must_change_password"] is True
    assert FIRST not in str(event.after)


@pytest.mark.parametrize(("password", "message"), [
    ("short-1A!", "Password must be at least 12 characters"),
    ("password1234", "Password is too easy to guess"),
    (EMAIL, "Password is too easy to guess"),
])
def test_admin_create_refuses_weak_passwords(app, password, message):
    result = create(app, password)
    assert result.exit_code == 1
    assert message in result.output
    assert users(app) == []


def test_the_password_is_never_an_argument(app):
    result = create(app, FIRST, EMAIL, "--password", FIRST)
    assert result.exit_code == 2
    assert "No such option '--password'" in result.output
    assert users(app) == []


def test_a_second_admin_with_the_same_email_is_refused(app):
    assert create(app, FIRST).exit_code == 0
    again = create(app, FIRST, EMAIL.upper())
    assert again.exit_code == 1
    assert "exists" in again.output
    assert len(users(app)) == 1


def test_first_sign_in_can_only_change_the_password(app):
    assert create(app, FIRST).exit_code == 0
    other_device = StaffClient.login(app.test_client(), EMAIL, FIRST)
    admin = StaffClient.login(app.test_client(), EMAIL, FIRST)
    assert admin.get("/api/v1/auth/me").json["must"] == "change_password"

    blocked = admin.get("/api/v1/admin/users")
    assert blocked.status_code == 403
    assert blocked.json["message"] == "Change your password first (POST /api/v1/auth/password)"
    assert admin.post("/api/v1/admin/sites", json={
        "code": "X", "name": "X", "timezone": "UTC"}).status_code == 403

    wrong = admin.post("/api/v1/auth/password",
                       json={"current_password": "not-it-at-all", "new_password": CHOSEN})
    assert wrong.status_code == 401
    assert wrong.json["errors"]["json"] == {"current_password": ["Wrong password"]}
    weak = admin.post("/api/v1/auth/password",
                      json={"current_password": FIRST, "new_password": "password1234"})
    assert weak.status_code == 422
    assert weak.json["errors"]["json"]["new_password"][0] == "Password is too easy to guess"
    same = admin.post("/api/v1/auth/password",
                      json={"current_password": FIRST, "new_password": FIRST})
    assert same.status_code == 422

    changed = admin.post("/api/v1/auth/password",
                         json={"current_password": FIRST, "new_password": CHOSEN})
    assert changed.status_code == 204, changed.json
    assert admin.get("/api/v1/auth/me").json["must"] is None
    assert admin.get("/api/v1/admin/users").status_code == 200
    assert other_device.get("/api/v1/auth/me").status_code == 401  # other sessions ended
    [admin_user] = users(app)
    assert [e.entity_id for e in events(app, "staff.password_change")] == [str(admin_user.id)]
    assert StaffClient.login(app.test_client(), EMAIL, CHOSEN).get(
        "/api/v1/admin/users").status_code == 200
