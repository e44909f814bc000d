"""Contact data is encrypted at rest and never reaches the logs or the audit trail in clear."""

import logging

from sqlalchemy import text

from pro_server.logs import LOG_FORMAT
from tests.factories import new_participant

PHONE = "+13525550177"
EMAIL = "pat.doe@example.com"


def test_phone_and_email_are_encrypted_in_the_raw_columns(app, staff_client):
    client = staff_client("coordinator.gnv@example.org")
    assert client.post("/api/v1/participants", json=new_participant()).status_code == 201
    with app.extensions["pro"]["engine"].connect() as conn:
        phone, email, lookup = conn.execute(text(
            "SELECT phone, email, phone_lookup FROM participant WHERE subject_key = 'GNV-101'")
        ).one()
    for raw in (phone, email):
        assert raw.startswith("gAAAA")  # a Fernet token
    assert "5550177" not in phone
    assert "pat.doe" not in email
    assert len(lookup) == 64
    assert "5550177" not in lookup


def test_enrolment_and_update_never_log_contact_data(app, staff_client, caplog):
    client = staff_client("coordinator.gnv@example.org")
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/v1/participants", json=new_participant())
    assert response.status_code == 201
    client.patch(f"/api/v1/participants/{response.json['id']}", json={"phone": "+13525550178"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "the enrolment should have logged something to check"
    for secret in (PHONE, "5550177", "5550178", EMAIL, "pat.doe"):
        assert secret not in logged


def test_audit_trail_holds_no_contact_data_in_clear(app, staff_client):
    client = staff_client("coordinator.gnv@example.org")
    created = client.post("/api/v1/participants", json=new_participant()).json
    client.patch(f"/api/v1/participants/{created['id']}",
                 json={"phone": "+13525550178", "email": "other@example.com"})
    with app.extensions["pro"]["engine"].connect() as conn:
        rows = conn.execute(text("SELECT before, after FROM audit_event")).all()
    dumped = " ".join(str(r) for r in rows)
    for secret in ("5550177", "5550178", "pat.doe", "other@example.com"):
        assert secret not in dumped
    assert '"phone":"set"' in dumped


def test_log_lines_of_a_request_carry_its_id_and_no_contact_data(app, staff_client, caplog):
    client = staff_client("coordinator.gnv@example.org")
    caplog.set_level(logging.INFO, logger="pro_server")
    response = client.post("/api/v1/participants", json=new_participant(),
                           headers={"X-Request-ID": "enrol-gnv-101-0001"})
    assert response.status_code == 201
    (enrolled,) = [r for r in caplog.records if r.getMessage().startswith("enrolled participant")]
    assert enrolled.request_id == response.headers["X-Request-ID"] == "enrol-gnv-101-0001"
    line = logging.Formatter(LOG_FORMAT).format(enrolled)
    assert "[enrol-gnv-101-0001]" in line
    for secret in (PHONE, "5550177", EMAIL, "pat.doe"):
        assert secret not in line
