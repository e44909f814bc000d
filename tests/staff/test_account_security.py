"""Behind a proxy, per-account lockout, password change and reset, the TOTP second factor."""

from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select

from pro_server import create_app
from pro_server.audit.models import AuditEvent
from pro_server.staff.models import StaffUser
from pro_server.studies.models import Study
from tests.helpers import StaffClient

MONITOR = "monitor@example.org"
ADMIN = "admin@example.org"
PROXY = "10.0.0.2"


@pytest.fixture
def proxied(settings, clock, engine, demo):
    """The app behind one trusted proxy (TRUSTED_PROXIES=1)."""
    app = create_app(replace(settings, trusted_proxies=1), clock=clock, engine=engine)
    app.config["TESTING"] = True
    return app


def _login(client, email, password, address=None, code=None):
    headers = {"X-Forwarded-For": address} if address else {}
    token = client.get("/api/v1/auth/csrf", headers=headers,
                       environ_base={"REMOTE_ADDR": PROXY}).json["csrf_token"]
    body = {"email": email, "password": password, **({"code": code} if code else {})}
    return client.post("/api/v1/auth/login", json=body, environ_base={"REMOTE_ADDR": PROXY},
                       headers={"X-CSRFToken": token, **headers})


def _events(app, action):
    with app.extensions["pro"]["session_factory"]() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()


def test_behind_a_proxy_failed_sign_ins_lock_the_client_address_only(proxied, demo):
    attacker, colleague = proxied.test_client(), proxied.test_client()
    statuses = [_login(attacker, MONITOR, f"guess-{n}-password", "203.0.113.5").status_code
                for n in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _login(attacker, MONITOR, demo[MONITOR], "203.0.113.5").status_code == 429

    signed_in = _login(colleague, MONITOR, demo[MONITOR], "198.51.100.7")

    assert signed_in.status_code == 200, signed_in.json
    (event,) = _events(proxied, "staff.login")
    assert event.after["address"] == "198.51.100.7"
    assert {e.after["address"] for e in _events(proxied, "staff.login_failed")} == {
        "203.0.113.5"}


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app, demo):
    client = app.test_client()
    response = _login(client, MONITOR, demo[MONITOR], "203.0.113.5")
    assert response.status_code == 200
    assert _events(app, "staff.login")[0].after["address"] == PROXY


def test_an_account_locks_after_repeated_failures_from_many_addresses(proxied, demo):
    client = proxied.test_client()
    for n in range(10):  # 10 addresses, so no address limit is reached
        assert _login(client, MONITOR, "wrong-password-123", f"203.0.113.{n}").status_code == 401

    locked = _login(client, MONITOR, demo[MONITOR], "198.51.100.7")
    assert locked.status_code == 403
    assert "locked" in locked.json["message"]
    assert len(_events(proxied, "staff.lock")) == 1

    admin = StaffClient.login(proxied.test_client(), ADMIN, demo[ADMIN])
    uid = admin.get("/api/v1/admin/users").json
    uid = next(u["id"] for u in uid if u["email"] == MONITOR)
    assert admin.get(f"/api/v1/admin/users/{uid}/security").json["locked_at"] is not None
    assert admin.post(f"/api/v1/admin/users/{uid}/unlock", json={}).status_code == 422
    unlocked = admin.post(f"/api/v1/admin/users/{uid}/unlock",
                          json={"reason": "Called the monitor; she mistyped"})
    assert unlocked.status_code == 200, unlocked.json
    (event,) = _events(proxied, "staff.unlock")
    assert (event.reason, event.actor_label) == ("Called the monitor; she mistyped",
                                                 "admin@example.org (admin)")
    assert _login(client, MONITOR, demo[MONITOR], "198.51.100.7").status_code == 200


def test_a_user_changes_the_password_and_other_sessions_end(app, demo):
    first = StaffClient.login(app.test_client(), MONITOR, demo[MONITOR])
    second = StaffClient.login(app.test_client(), MONITOR, demo[MONITOR])
    wrong = second.post("/api/v1/auth/password", json={
        "current_password": "not-it-at-all", "new_password": "a-new-long-passphrase-1"})
    assert wrong.status_code == 401
    short = second.post("/api/v1/auth/password", json={
        "current_password": demo[MONITOR], "new_password": "short"})
    assert short.status_code == 422
    assert "new_password" in short.json["errors"]["json"]

    changed = second.post("/api/v1/auth/password", json={
        "current_password": demo[MONITOR], "new_password": "a-new-long-passphrase-1"})

    assert changed.status_code == 204
    assert second.get("/api/v1/auth/me").status_code == 200  # this session goes on
    assert first.get("/api/v1/auth/me").status_code == 401  # the other one ended
    assert _login(app.test_client(), MONITOR, demo[MONITOR]).status_code == 401
    assert _login(app.test_client(), MONITOR, "a-new-long-passphrase-1").status_code == 200
    assert len(_events(app, "staff.password_change")) == 1


def test_an_admin_reset_forces_a_change_at_the_next_sign_in(app, demo):
    admin = StaffClient.login(app.test_client(), ADMIN, demo[ADMIN])
    uid = next(u["id"] for u in admin.get("/api/v1/admin/users").json if u["email"] == MONITOR)
    reset = admin.post(f"/api/v1/admin/users/{uid}/reset-password",
                       json={"reason": "Forgotten password, identity checked by phone"})
    assert reset.status_code == 200, reset.json
    temporary = reset.json["temporary_password"]
    assert _login(app.test_client(), MONITOR, demo[MONITOR]).status_code == 401

    client = app.test_client()
    signed_in = _login(client, MONITOR, temporary)
    assert signed_in.status_code == 200
    assert signed_in.json["must"] == "change_password"
    monitor = StaffClient(client, signed_in.json["csrf_token"])
    blocked = monitor.get("/api/v1/participants")
    assert blocked.status_code == 403
    assert "Change your password first" in blocked.json["message"]
    assert monitor.post("/api/v1/auth/password", json={
        "current_password": temporary,
        "new_password": "monitors-own-passphrase-9"}).status_code == 204
    assert monitor.get("/api/v1/auth/me").json["must"] is None
    assert monitor.get("/api/v1/participants").status_code == 200
    (event,) = _events(app, "staff.password_reset")
    assert event.reason == "Forgotten password, identity checked by phone"
    assert temporary not in str(event.after)


def test_totp_sign_in_and_a_study_that_requires_it(app, demo, clock, ctx_factory):
    admin = StaffClient.login(app.test_client(), ADMIN, demo[ADMIN])
    required = admin.put("/api/v1/admin/studies/RES001-DMPM-02/staff-security", json={
        "second_factor_required": True, "reason": "Sponsor SOP: MFA for signers"})
    assert required.status_code == 200, required.json
    assert ctx_factory().session.scalar(select(Study.staff_second_factor_required)) is True

    client = app.test_client()
    first = _login(client, "investigator@example.org", demo["investigator@example.org"])
    assert first.json["must"] == "set_up_second_factor"
    investigator = StaffClient(client, first.json["csrf_token"])
    assert investigator.get("/api/v1/participants").status_code == 403
    setup = investigator.post("/api/v1/auth/totp").json
    assert 'xmlns="http://www.w3.org/2000/svg"' in setup["qr_svg"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(setup["secret"])
    assert investigator.post("/api/v1/auth/totp/confirm",
                             json={"code": "000000" if totp.at(clock.now()) != "000000"
                                   else "111111"}).status_code == 422
    assert investigator.post("/api/v1/auth/totp/confirm",
                             json={"code": totp.at(clock.now())}).status_code == 204
    assert investigator.get("/api/v1/participants").status_code == 200

    again = app.test_client()
    no_code = _login(again, "investigator@example.org", demo["investigator@example.org"])
    assert no_code.status_code == 401
    assert "code" in no_code.json["errors"]["json"]
    with_code = _login(again, "investigator@example.org", demo["investigator@example.org"],
                       code=totp.at(clock.now(), counter_offset=1))
    assert with_code.status_code == 200, with_code.json
    assert with_code.json["must"] is None
    with app.extensions["pro"]["session_factory"]() as session:
        user = session.scalar(select(StaffUser).where(
            StaffUser.email == "investigator@example.org"))
        assert setup["secret"] not in str(session.connection().exec_driver_sql(
            "SELECT totp_secret FROM staff_user WHERE id = ?" if session.bind.dialect.name
            == "sqlite" else "SELECT totp_secret FROM staff_user WHERE id = %s",
            (user.id,)).scalar())  # encrypted at rest


def test_turning_the_second_factor_off_needs_the_password_and_code(app, demo, clock):
    client = StaffClient.login(app.test_client(), MONITOR, demo[MONITOR])
    totp = pyotp.TOTP(client.post("/api/v1/auth/totp").json["secret"])
    assert client.post("/api/v1/auth/totp/confirm",
                       json={"code": totp.at(clock.now())}).status_code == 204
    off = {"reason": "New phone", "password": demo[MONITOR]}

    assert client.delete("/api/v1/auth/totp", json=off).status_code == 401  # no code
    assert client.delete("/api/v1/auth/totp", json={
        **off, "code": totp.at(clock.now(), counter_offset=1)}).status_code == 204
    assert client.get("/api/v1/auth/me").json["second_factor"] is False
    assert len(_events(app, "staff.reauthentication_failed")) == 1
    assert len(_events(app, "staff.totp_disable")) == 1
