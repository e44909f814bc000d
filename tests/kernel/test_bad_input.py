"""Bad input gets a 4xx with a message per field, and nothing stored changes."""

import json

import pytest
from sqlalchemy import text

from tests.factories import new_participant
from tests.factories import post_participant as enrol


def snapshot(app):
    """Everything a bad request could have touched, read raw from the database."""
    with app.extensions["pro"]["engine"].connect() as conn:
        participants = conn.execute(text(
            "SELECT id, subject_key, status, language, timezone, phone, email, sms_consent, "
            "reminder_time, updated_at FROM participant ORDER BY id")).all()
        audit = conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
    return participants, audit


CASES = [
    # (name, request maker, expected status, field expected in errors.json or None)
    ("wrong type", lambda c, ids: enrol(c, new_participant(subject_key=123)), 422, "subject_key"),
    ("unknown field", lambda c, ids: enrol(c, new_participant(arm="A")), 422, "arm"),
    ("invalid time zone", lambda c, ids: enrol(c, new_participant(timezone="Mars/Olympus")), 422,
     "timezone"),
    ("phone not a number", lambda c, ids: enrol(c, new_participant(phone="call me")), 422,
     "phone"),
    ("phone too short for the site's country",
     lambda c, ids: enrol(c, new_participant(phone="(352) 555-01")), 422, "phone"),
    ("phone invalid for country", lambda c, ids: enrol(c, new_participant(phone="+15555550123")),
     422, "phone"),
    ("unsupported language", lambda c, ids: enrol(c, new_participant(language="fr")), 422,
     "language"),
    ("bad email", lambda c, ids: enrol(c, new_participant(email="not-an-email")), 422, "email"),
    ("consent without source", lambda c, ids: enrol(c, new_participant(
        sms_consent={"given": True})), 422, "sms_consent"),
    ("consent without phone", lambda c, ids: enrol(c, new_participant(phone=None)), 422, "phone"),
    ("unknown site", lambda c, ids: enrol(c, new_participant(site_code="TPA")), 422, "site_code"),
    ("missing required", lambda c, ids: enrol(c, {"subject_key": "GNV-200"}), 422, "site_code"),
    ("bad reminder time", lambda c, ids: enrol(c, new_participant(reminder_time="25:00")), 422,
     "reminder_time"),
    ("bad subject key", lambda c, ids: enrol(c, new_participant(subject_key="GNV 1;DROP")), 422,
     "subject_key"),
    ("duplicate subject key", lambda c, ids: enrol(c, new_participant(subject_key="GNV-001")),
     409, None),
    ("withdraw without reason", lambda c, ids: c.post(
        f"/api/v1/participants/{ids['GNV-001']}/withdraw", json={}), 422, "reason"),
    ("patch invalid zone", lambda c, ids: c.patch(
        f"/api/v1/participants/{ids['GNV-001']}", json={"timezone": "EST5EDT-ish"}), 422,
     "timezone"),
    ("patch nothing", lambda c, ids: c.patch(f"/api/v1/participants/{ids['GNV-001']}", json={}),
     422, "_schema"),
    ("patch to withdrawn", lambda c, ids: c.patch(
        f"/api/v1/participants/{ids['GNV-001']}", json={"status": "withdrawn"}), 422, "status"),
    ("unknown id", lambda c, ids: c.patch("/api/v1/participants/424242", json={"language": "es"}),
     404, None),
    ("page size too large", lambda c, ids: c.get("/api/v1/participants?page_size=100000"), 422,
     "page_size"),
    ("bad status filter", lambda c, ids: c.get("/api/v1/participants?status=dead"), 422, "status"),
]


@pytest.mark.parametrize(("name", "call", "status", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(app, staff_client, ids, name, call, status,
                                                  field):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    response = call(client, ids)
    assert response.status_code == status, response.json
    body = response.json
    assert body["code"] == status
    assert body["message"]
    if field is not None:
        errors = body["errors"]
        located = errors.get("json") or errors.get("query") or {}
        assert field in located, errors
        assert all(isinstance(m, (str, list, dict)) for m in located.values())
    assert snapshot(app) == before


def test_malformed_json_is_a_400_not_a_500(app, staff_client):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    response = client.post("/api/v1/participants", data="{not json",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400
    assert snapshot(app) == before


def test_oversized_body_is_refused(app, staff_client):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    big = json.dumps(new_participant(padding="x" * (300 * 1024)))
    response = client.post("/api/v1/participants", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert snapshot(app) == before


def test_unknown_route_and_wrong_method_use_the_same_error_shape(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert set(missing.json) >= {"code", "status", "message"}
    wrong = client.delete("/api/v1/participants")
    assert wrong.status_code == 405
    assert wrong.json["code"] == 405
