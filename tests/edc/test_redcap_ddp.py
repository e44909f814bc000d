"""Issue 15, item 7: REDCap's Dynamic Data Pull (DDP Custom) web services, called the way
REDCap calls them (form POST to the metadata and user access services, JSON POST to the
data service, the secret in the configured URL), answered in the specification's shapes."""

from __future__ import annotations

import pytest

from pro_server.edc import ddp

BASE = "/webhooks/redcap-ddp/studies/RES001-DMPM-02"
COMMON = {"user": "jsmith", "project_id": "394", "redcap_url": "https://redcap.example.org/"}
METADATA_KEYS = {"field", "label", "description", "temporal", "category", "subcategory",
                 "identifier"}


def test_metadata_service_lists_fields_with_every_documented_attribute(edc, client):
    response = client.post(f"{BASE}/metadata?token={edc.token}", data=COMMON)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    fields = response.get_json()
    assert all(set(f) == METADATA_KEYS for f in fields)
    assert all(ddp.FIELD_RE.match(f["field"]) for f in fields)  # field: letters, digits, _ -
    assert len({f["field"] for f in fields}) == len(fields)  # field: unique
    identifiers = [f for f in fields if f["identifier"] == "1"]  # identifier: "1" once
    assert [f["field"] for f in identifiers] == ["subject_key"]
    assert identifiers[0]["temporal"] == "0"
    by_field = {f["field"]: f for f in fields}
    haq = by_field["haq_di_haqdi"]
    assert haq["temporal"] == "1"  # temporal: one value per assessment
    assert haq["label"].startswith("HAQ Disability Index")
    assert haq["category"]
    assert haq["subcategory"] == "Scores"
    assert haq["description"]  # description
    assert by_field["pain_nrs_painnrs"]["subcategory"] == "Answers"


def test_metadata_without_the_responses_scope_lists_scores_only(edc, client):
    response = client.post(f"{BASE}/metadata?token={edc.tokens['scores']}", data=COMMON)
    subcategories = {f["subcategory"] for f in response.get_json() if f["temporal"] == "1"}
    assert subcategories == {"Scores"}


def test_data_service_answers_field_value_timestamp_within_the_window(edc, client):
    body = {**COMMON, "id": "EDC-G01", "fields": [
        {"field": "subject_key"},
        {"field": "haq_di_haqdi"},
        {"field": "haq_di_haq01", "timestamp_min": "2000-01-01 00:00:00",
         "timestamp_max": "2100-01-01 00:00:00"},
        {"field": "pain_nrs_painscr", "timestamp_min": "2100-01-01 00:00:00",
         "timestamp_max": "2100-01-02 00:00:00"},
    ]}
    response = client.post(f"{BASE}/data?token={edc.token}", json=body)
    assert response.status_code == 200, response.data
    values = response.get_json()
    assert values[0] == {"field": "subject_key", "value": "EDC-G01"}
    for v in values[1:]:
        assert set(v) == {"field", "value", "timestamp"}
        assert len(v["timestamp"]) == 19  # YYYY-MM-DD HH:MM:SS
    haq = [v for v in values if v["field"] == "haq_di_haqdi"]
    assert len(haq) == 2  # baseline and infusion 1 day 7
    dress = sorted((v["timestamp"], v["value"]) for v in values if v["field"] == "haq_di_haq01")
    assert dress[-1][1] == str(edc.corrected.answers["dress"]["value"])  # current version
    assert not [v for v in values if v["field"] == "pain_nrs_painscr"]  # outside the window


@pytest.mark.parametrize("body", [{"fields": []}, {"id": "EDC-G01"},
                                  {"id": "EDC-G01", "fields": [{"field": "a b"}]},
                                  {"id": "EDC-G01", "fields": [{"field": "haq_di_haqdi",
                                                                "timestamp_min": "yesterday"}]},
                                  ["not", "an", "object"]])
def test_a_malformed_data_request_is_a_400(edc, client, body):
    response = client.post(f"{BASE}/data?token={edc.token}", json=body)
    assert response.status_code == 400


def test_user_access_service_maps_the_clients_scopes(edc, client):
    allowed = client.post(f"{BASE}/user-access?token={edc.token}", data=COMMON)
    assert (allowed.status_code, allowed.get_data(as_text=True)) == (200, "1")
    denied = client.post(f"{BASE}/user-access?token={edc.tokens['adherence']}", data=COMMON)
    assert denied.get_data(as_text=True) == "0"


def test_the_token_in_the_url_is_required_and_scoped_to_its_study(edc, client):
    assert client.post(f"{BASE}/metadata", data=COMMON).status_code == 401
    assert client.post(f"{BASE}/metadata?token=pro_edc_x.y", data=COMMON).status_code == 401
    other = client.post(f"{BASE}/metadata?token={edc.tokens['other']}", data=COMMON)
    assert other.status_code == 404
    no_scope = client.post(f"{BASE}/data?token={edc.tokens['adherence']}",
                           json={"id": "EDC-G01", "fields": []})
    assert no_scope.status_code == 403
