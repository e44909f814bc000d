import json

from tests.factories import new_participant


def test_coordinator_enrols_a_participant_and_sees_their_contact_data(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    response = client.post("/api/v1/participants", json=new_participant())
    assert response.status_code == 201, response.json
    body = response.json
    assert body["subject_key"] == "GNV-101"
    assert body["site_code"] == "GNV"
    assert body["study_code"] == "RES001-DMPM-02"
    assert body["status"] == "enrolled"
    assert body["phone"] == "+13525550177"
    assert body["phone_masked"] == "********0177"
    assert body["sms_consent"] is True
    assert body["sms_consent_source"] == "ICF v3 signed at screening visit"
    assert body["enrolled_on"] == "2026-03-01"
    assert body["protocol_version"] == "2"


def test_a_us_number_as_people_write_it_is_read_in_the_sites_country(staff_client, ids):
    """"(352) 555-0177" at a Florida site is +13525550177 (phonenumbers, with the region of
    the site's contact phone); the same goes for a change of number."""
    client = staff_client("coordinator.gnv@example.org")
    response = client.post("/api/v1/participants",
                           json=new_participant(phone="(352) 555-0177"))
    assert response.status_code == 201, response.json
    assert response.json["phone"] == "+13525550177"
    url = f"/api/v1/participants/{ids['GNV-001']}"
    response = client.patch(url, json={"phone": "352.555.0188"})
    assert response.status_code == 200, response.json
    assert client.get(url).json["phone"] == "+13525550188"


def test_monitor_reads_every_site_but_never_sees_full_contact_data(staff_client):
    client = staff_client("monitor@example.org")
    response = client.get("/api/v1/participants?page_size=100")
    assert response.status_code == 200
    assert {p["site_code"] for p in response.json} == {"GNV", "MIA"}
    assert len(response.json) == 12
    assert all("phone" not in p for p in response.json)
    assert all(p["phone_masked"].endswith(p["phone_masked"][-4:]) for p in response.json)


def test_list_filters_and_paginates(staff_client):
    client = staff_client("monitor@example.org")
    page = client.get("/api/v1/participants?site=MIA&page=1&page_size=4")
    assert [p["subject_key"] for p in page.json] == ["MIA-001", "MIA-002", "MIA-003", "MIA-004"]
    pagination = json.loads(page.headers["X-Pagination"])
    assert pagination["total"] == 6
    assert pagination["total_pages"] == 2
    withdrawn = client.get("/api/v1/participants?status=withdrawn")
    assert [p["subject_key"] for p in withdrawn.json] == ["GNV-006"]
    screening = client.get("/api/v1/participants?status=screening&site=GNV")
    assert [p["subject_key"] for p in screening.json] == ["GNV-005"]


def test_update_contact_language_and_time_zone(staff_client, ids):
    client = staff_client("coordinator.gnv@example.org")
    url = f"/api/v1/participants/{ids['GNV-001']}"
    response = client.patch(url, json={"language": "es", "timezone": "America/Chicago",
                                       "phone": "+13525550199", "reminder_time": "18:30"})
    assert response.status_code == 200, response.json
    again = client.get(url).json
    assert (again["language"], again["timezone"], again["phone"], again["reminder_time"]) == (
        "es", "America/Chicago", "+13525550199", "18:30")


def test_withdraw_needs_a_reason_and_freezes_the_participant(staff_client, ids):
    client = staff_client("coordinator.mia@example.org")
    url = f"/api/v1/participants/{ids['MIA-002']}"
    response = client.post(f"{url}/withdraw", json={"reason": "Participant asked to stop"})
    assert response.status_code == 200
    assert response.json["status"] == "withdrawn"
    assert response.json["withdrawal_reason"] == "Participant asked to stop"
    assert client.post(f"{url}/withdraw", json={"reason": "again"}).status_code == 409
    assert client.patch(url, json={"language": "es"}).status_code == 409


def test_screening_participant_becomes_enrolled_with_an_enrolment_date(staff_client, ids):
    client = staff_client("coordinator.gnv@example.org")
    url = f"/api/v1/participants/{ids['GNV-005']}"
    response = client.patch(url, json={"status": "enrolled"})
    assert response.json["status"] == "enrolled"
    assert response.json["enrolled_on"] == "2026-03-01"
