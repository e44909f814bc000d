"""Every role x own site / other site x each participant endpoint, with the expected status."""

import pytest

from pro_server.staff.models import Role
from pro_server.staff.services import create_staff_user
from pro_server.studies.models import Site
from tests.factories import new_participant
from tests.helpers import StaffClient

# A GNV participant is "own site" for the Gainesville staff below; MIA is "other site".
# The monitor reads the whole study; the admin handles no participant data.
EXPECTED = {
    # list, get own, get other, patch own, patch other, withdraw own, withdraw other,
    # enrol own, enrol other
    "coordinator":   (200, 200, 404, 200, 404, 200, 404, 201, 422),
    "investigator":  (200, 200, 404, 200, 404, 200, 404, 201, 422),
    "monitor":       (200, 200, 200, 403, 403, 403, 403, 403, 403),
    "admin":         (403, 404, 404, 404, 404, 404, 404, 403, 403),
    "anonymous":     (401, 401, 401, 401, 401, 401, 401, 401, 401),
}
USERS = {
    "coordinator": "coordinator.gnv@example.org",
    "investigator": "pi.gnv@example.org",
    "monitor": "monitor@example.org",
    "admin": "admin@example.org",
}


@pytest.fixture
def gnv_investigator(ctx_factory, demo):
    ctx = ctx_factory()
    gnv = ctx.session.query(Site).filter_by(code="GNV").one()
    create_staff_user(ctx, email=USERS["investigator"], name="GNV PI", password="pi-password-long",
                      role=Role.investigator, sites=[gnv])
    ctx.session.commit()
    return "pi-password-long"


@pytest.mark.parametrize("role", list(EXPECTED))
def test_access_matrix(app, demo, ids, gnv_investigator, role):
    if role == "anonymous":
        # A valid CSRF token but no sign-in: the refusal is about authentication alone.
        anonymous = app.test_client()
        client = StaffClient(anonymous, anonymous.get("/api/v1/auth/csrf").json["csrf_token"])
    else:
        email = USERS[role]
        password = gnv_investigator if role == "investigator" else demo[email]
        client = StaffClient.login(app.test_client(), email, password)
    own, other = ids["GNV-003"], ids["MIA-003"]
    own_wd, other_wd = ids["GNV-004"], ids["MIA-004"]
    got = (
        client.get("/api/v1/participants").status_code,
        client.get(f"/api/v1/participants/{own}").status_code,
        client.get(f"/api/v1/participants/{other}").status_code,
        client.patch(f"/api/v1/participants/{own}", json={"language": "es"}).status_code,
        client.patch(f"/api/v1/participants/{other}", json={"language": "es"}).status_code,
        client.post(f"/api/v1/participants/{own_wd}/withdraw", json={"reason": "test"}).status_code,
        client.post(f"/api/v1/participants/{other_wd}/withdraw",
                    json={"reason": "test"}).status_code,
        client.post("/api/v1/participants", json=new_participant()).status_code,
        client.post("/api/v1/participants",
                    json=new_participant(subject_key="MIA-101", site_code="MIA")).status_code,
    )
    assert got == EXPECTED[role]


def test_other_site_participant_looks_exactly_like_a_missing_one(staff_client, ids):
    client = staff_client("coordinator.gnv@example.org")
    other = client.get(f"/api/v1/participants/{ids['MIA-001']}")
    missing = client.get("/api/v1/participants/999999")
    assert other.status_code == missing.status_code == 404
    assert other.json == missing.json


def test_coordinator_list_never_contains_another_site(staff_client):
    client = staff_client("coordinator.mia@example.org")
    rows = client.get("/api/v1/participants?page_size=100").json
    assert {r["site_code"] for r in rows} == {"MIA"}
    assert client.get("/api/v1/participants?site=GNV").json == []


# schedule own, schedule other, infusion own, infusion other, visit own, visit other
SCHEDULE_EXPECTED = {
    "coordinator": (200, 404, 200, 404, 201, 404),
    "investigator": (200, 404, 200, 404, 201, 404),
    "monitor": (200, 200, 403, 403, 403, 403),
    "admin": (404, 404, 404, 404, 404, 404),
    "anonymous": (401, 401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("role", list(SCHEDULE_EXPECTED))
def test_access_matrix_for_schedule_endpoints(app, demo, ids, gnv_investigator, role):
    if role == "anonymous":
        anonymous = app.test_client()
        client = StaffClient(anonymous, anonymous.get("/api/v1/auth/csrf").json["csrf_token"])
    else:
        email = USERS[role]
        password = gnv_investigator if role == "investigator" else demo[email]
        client = StaffClient.login(app.test_client(), email, password)
    own, other = ids["GNV-003"], ids["MIA-003"]
    infusion = {"status": "planned", "planned_date": "2026-03-20"}
    visit = {"starts_at_local": "2026-03-10T10:00", "mode": "phone"}
    got = (
        client.get(f"/api/v1/participants/{own}/schedule").status_code,
        client.get(f"/api/v1/participants/{other}/schedule").status_code,
        client.put(f"/api/v1/participants/{own}/infusions/1", json=infusion).status_code,
        client.put(f"/api/v1/participants/{other}/infusions/1", json=infusion).status_code,
        client.post(f"/api/v1/participants/{own}/visits", json=visit).status_code,
        client.post(f"/api/v1/participants/{other}/visits", json=visit).status_code,
    )
    assert got == SCHEDULE_EXPECTED[role]
