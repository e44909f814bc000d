"""The HTTP contract under hostile input: never a 5xx, never an ambiguous body accepted, CSRF
not switched off by a header, no existence oracle for anonymous callers, 405 with Allow."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from tests.factories import new_participant
from tests.kernel.test_bad_input import snapshot

BEYOND_64_BIT = "9223372036854775808"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _id_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every route with an id in its path, the ids 2**63."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:[^>]+>", BEYOND_64_BIT, rule.rule)
        url = re.sub(r"<[^>]+>", "RES001-DMPM-02", url)
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_ids_beyond_64_bits_are_a_4xx_for_staff_and_anonymous_never_500(app, staff_client):
    admin = staff_client("admin@example.org")
    anonymous = app.test_client()
    routes = _id_routes(app)
    assert len(routes) >= 22
    failures = []
    for method, url in routes:
        for who, client in (("admin", admin), ("anonymous", anonymous)):
            response = client.client.open(url, method=method, json={}, headers={
                "X-CSRFToken": admin.csrf_token}) if who == "admin" else client.open(
                url, method=method, json={}, headers={"Authorization": "Bearer x"})
            expected = (404,) if who == "admin" else (401, 404)  # a junk bearer: 401
            if response.status_code not in expected:
                failures.append((who, method, url, response.status_code))
    assert failures == []


@pytest.mark.parametrize("url", [
    "/api/v1/change-requests?participant_id=-733196807486477172736",
    "/api/v1/change-requests?participant_id=2147483648",
    "/api/v1/messages?participant_id=0",
    "/api/v1/inbound-messages?participant_id=9223372036854775807",
])
def test_an_id_in_a_query_that_no_id_column_holds_is_a_422_naming_it(staff_client, url):
    # Found by the fuzz gate on PostgreSQL: "integer out of range" was a 500.
    response = staff_client("coordinator.gnv@example.org").get(url)
    assert response.status_code == 422, response.json
    assert "participant_id" in response.json["errors"]["query"]


def _enrol_raw(client, body: bytes | str):
    return client.post("/api/v1/participants", data=body, content_type="application/json")


@pytest.mark.parametrize(("name", "body", "message"), [
    ("nested 1,000 deep", "[" * 1000 + "]" * 1000, "nested deeper than 32"),
    ("5,000-digit integer", '{"subject_key": "GNV-300", "site_code": "GNV", "language": "en",'
     ' "timezone": "America/New_York", "reminder_hour": ' + "9" * 5000 + "}", "out of range"),
    ("integer beyond 64 bits", json.dumps({"subject_key": 2**64}), "out of range"),
    ("NaN", '{"subject_key": NaN}', "NaN is not a JSON number"),
    ("duplicate key", '{"subject_key": "GNV-300", "subject_key": "GNV-301"}',
     "duplicate key 'subject_key'"),
    ("invalid UTF-8", b'{"subject_key": "\xff\xfe"}', "Invalid JSON"),
])
def test_hostile_json_gets_a_400_naming_the_problem_and_stores_nothing(app, staff_client, name,
                                                                       body, message):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    response = _enrol_raw(client, body)
    assert response.status_code == 400, (name, response.json)
    assert message in response.json["message"]
    assert snapshot(app) == before


def test_a_score_is_never_computed_from_a_repeated_key(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    url = "/api/v1/instruments/haq_di/score"
    twice_in_answers = '{"answers": {"dress": 0, "dress": 3}}'
    twice_top_level = '{"answers": {"dress": 0}, "answers": {"dress": 3}}'
    for body, key in ((twice_in_answers, "dress"), (twice_top_level, "answers")):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, response.json
        assert f"duplicate key '{key}'" in response.json["message"]


def _consent(source: str) -> dict:
    return {"sms_consent": {"given": True, "source": source}}


@pytest.mark.parametrize(("field", "overrides"), [
    ("sms_consent.source", _consent("ICF v3\x00 signed")),  # NUL: accepted on SQLite, 500 on PG
    ("sms_consent.source", _consent("ICF v3 \u202esigned")),  # right-to-left override
    ("sms_consent.source", _consent("ICF v3 \u2066signed")),  # bidi isolate
    ("sms_consent.source", _consent("ICF v3 \x1b[2Jsigned")),  # terminal escape
    ("sms_consent.source", _consent("ICF v3 \ud800")),  # unpaired surrogate PG cannot store
    ("email", {"email": "pat\x00@example.com"}),
])
def test_control_and_bidi_characters_are_refused_per_field(app, staff_client, field, overrides):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    response = client.post("/api/v1/participants", json=new_participant(**overrides))
    assert response.status_code == 422, response.json
    assert "U+" in response.json["errors"]["json"][field][0]
    assert snapshot(app) == before


def test_a_site_name_shown_to_participants_refuses_a_text_direction_override(app, staff_client):
    admin = staff_client("admin@example.org")
    site = admin.get("/api/v1/admin/sites").json[0]
    response = admin.patch(f"/api/v1/admin/sites/{site['id']}",
                           json={"name": "Gainesville \u202eCRU"})
    assert response.status_code == 422, response.json
    assert "name" in response.json["errors"]["json"]
    with app.extensions["pro"]["engine"].connect() as conn:
        names = conn.execute(text("SELECT name FROM site")).scalars().all()
    assert not any("\u202e" in name for name in names)


def test_nul_in_a_query_string_is_a_422_not_a_database_error(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    response = client.get("/api/v1/participants?site=GN%00V")
    assert response.status_code == 422
    assert "site" in response.json["errors"]["query"]


def test_a_junk_bearer_header_does_not_switch_off_csrf(app, staff_client, ids):
    client = staff_client("coordinator.gnv@example.org")
    before = snapshot(app)
    response = client.client.patch(f"/api/v1/participants/{ids['GNV-001']}",
                                   json={"language": "es"},
                                   headers={"Authorization": "Bearer junk"})
    assert response.status_code in (400, 401), response.json
    assert snapshot(app) == before
    without_header = client.client.patch(f"/api/v1/participants/{ids['GNV-001']}",
                                         json={"language": "es"})
    assert without_header.status_code == 400
    assert "CSRF" in without_header.json["message"]


def test_anonymous_callers_get_401_before_anything_they_sent_is_judged(app, demo, ids):
    anonymous = app.test_client()
    token = anonymous.get("/api/v1/auth/csrf").json["csrf_token"]
    headers = {"X-CSRFToken": token}
    # unknown query parameters: 401, not a 422 that teaches the parameters
    assert anonymous.get("/api/v1/participants?bogus=1").status_code == 401
    assert anonymous.get("/api/v1/messages?page_size=0").status_code == 401
    # existing and missing ids look the same
    for path in ("messages", "inbound-messages"):
        for item in (1, 424242):
            response = anonymous.post(f"/api/v1/{path}/{item}/resolve",
                                      json={"reason": "x"}, headers=headers)
            assert response.status_code == 401, (path, item, response.json)
    for pid in (ids["GNV-001"], 424242):
        assert anonymous.patch(f"/api/v1/participants/{pid}", json={"nonsense": 1},
                               headers=headers).status_code == 401


def test_method_not_allowed_names_the_allowed_methods(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    response = client.delete("/api/v1/participants")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json["code"] == 405
