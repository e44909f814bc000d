"""FHIR R4 REST read API: Questionnaires, QuestionnaireResponses and Observations with their
versions, Patients, search with paging, OperationOutcome errors, and the `_history` export,
every resource parsed by the fhir.resources R4B models (wire-compatible with R4)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from pro_server.participants.models import Participant
from tests.edc import support

BASE = "/api/v1/edc/studies/RES001-DMPM-02/fhir"
ORIGIN = "http://127.0.0.1:5000"
MODELS = {"Bundle": Bundle, "CapabilityStatement": CapabilityStatement,
          "Observation": Observation, "OperationOutcome": OperationOutcome,
          "Patient": Patient, "Questionnaire": Questionnaire,
          "QuestionnaireResponse": QuestionnaireResponse}


def _get(client, edc, path: str, status: int = 200, token: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[dict[str, Any], Any]:
    url = path if path.startswith("http") else BASE + path
    response = client.get(url.removeprefix(ORIGIN), headers={**edc.headers(token),
                                                             **(headers or {})})
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/fhir+json"
    data = json.loads(response.data)
    MODELS[data["resourceType"]].model_validate(data)
    return data, response


def _search_all(client, edc, query: str) -> list[dict[str, Any]]:
    """Every entry of a search, following the `next` links as a FHIR client does."""
    entries: list[dict[str, Any]] = []
    url: str | None = f"/QuestionnaireResponse?{query}"
    while url:
        page, _ = _get(client, edc, url)
        entries += page.get("entry", [])
        url = next((link["url"] for link in page.get("link", [])
                    if link["relation"] == "next" and page.get("entry")), None)
    return entries


def _assessment(qr: dict[str, Any]) -> str:
    return qr["extension"][0]["valueString"]


def _upserted(entries: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """What a consumer that upserts by resource type and id ends up holding."""
    held: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        resource = entry["resource"]
        held[(resource["resourceType"], resource["id"])] = resource
    return held


def test_questionnaires_parse_and_carry_both_languages(edc, client):
    data, _ = _get(client, edc, "/Questionnaire")
    assert data["type"] == "searchset"
    assert {e["resource"]["name"] for e in data["entry"]} == {
        "PAIN_NRS", "PTGA_VAS", "HAQ_DI", "PROMIS_GH", "RAND36"}
    haq, response = _get(client, edc, "/Questionnaire/haq-di")
    assert response.headers["ETag"] == 'W/"1.0"'
    dress = haq["item"][0]
    assert dress["type"] == "choice"
    assert len(dress["answerOption"]) == 4
    spanish = dress["_text"]["extension"][0]["extension"]
    assert {"url": "lang", "valueCode": "es"} in spanish
    other = next(i for i in haq["item"] if i["linkId"] == "aids_other_p1")
    assert other["enableWhen"][0]["question"] == "aids_p1"
    # A checklist offers "None checked" as an exclusive answer: what the participant page
    # records when the participant moves on with nothing ticked.
    aids = next(i for i in haq["item"] if i["linkId"] == "aids_p2")
    none = aids["answerOption"][-1]
    assert none["valueCoding"]["code"] == "none-checked"
    assert none["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/"
                                         "questionnaire-optionExclusive", "valueBoolean": True}]


def test_a_correction_is_a_new_version_of_the_same_response(edc, client):
    """Issue 15 item 2: one logical id per response, versionId 2 for the correction, and a
    consumer that upserts by id holds one response and one score per response."""
    entries = _search_all(client, edc, "_count=4&_revinclude=Observation:derived-from")
    held = _upserted(entries)
    responses = [r for (kind, _), r in held.items() if kind == "QuestionnaireResponse"
                 and r["subject"]["identifier"]["value"].startswith("EDC-")]
    per_response = {(r["subject"]["identifier"]["value"], _assessment(r), r["questionnaire"])
                    for r in responses}
    assert len(responses) == len(per_response) == 27
    corrected = held[("QuestionnaireResponse", f"qr-{edc.corrected.replaces_id}")]
    assert (corrected["meta"]["versionId"], corrected["status"]) == ("2", "amended")
    dress = next(i for i in corrected["item"] if i["linkId"] == "dress")
    assert dress["answer"][0]["valueCoding"]["code"] == str(
        edc.corrected.answers["dress"]["value"])
    haq_scores = [o for (kind, _), o in held.items() if kind == "Observation"
                  and o["code"]["coding"][0]["code"] == "haq_di.haq_di"
                  and o["subject"]["identifier"]["value"] == "EDC-G01"
                  and o["effectiveDateTime"] == corrected["authored"]]
    assert len(haq_scores) == 1
    score = haq_scores[0]
    assert (score["id"], score["meta"]["versionId"], score["status"]) == (
        f"obs-{edc.corrected.replaces_id}-haq-di", "2", "amended")
    assert score["valueQuantity"]["value"] == float(
        edc.corrected.scores["scores"]["haq_di"]["value_text"])
    assert score["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/qr-{edc.corrected.replaces_id}/_history/2"}]


def test_history_keeps_every_version_and_vread_reads_each(edc, client):
    rid = f"qr-{edc.corrected.replaces_id}"
    history, _ = _get(client, edc, f"/QuestionnaireResponse/{rid}/_history")
    assert history["type"] == "history"
    assert [(e["resource"]["meta"]["versionId"], e["resource"]["status"],
             e["request"]["method"]) for e in history["entry"]] == [
        ("2", "amended", "PUT"), ("1", "completed", "POST")]
    first, response = _get(client, edc, f"/QuestionnaireResponse/{rid}/_history/1")
    assert response.headers["ETag"] == 'W/"1"'
    assert first == history["entry"][1]["resource"]
    scores, _ = _get(client, edc, f"/Observation/obs-{edc.corrected.replaces_id}-haq-di"
                                  "/_history")
    assert [e["resource"]["status"] for e in scores["entry"]] == ["amended", "final"]
    _get(client, edc, f"/QuestionnaireResponse/{rid}/_history/3", status=404)


def test_answered_with_nothing_ticked_is_not_unanswered(edc, client, ctx_factory):
    """Issue 15 item 3: `aids_p2 = []` is an answer ("none checked"), as ODM says N for
    every option and REDCap 0; an item never answered stays absent."""
    ctx = ctx_factory()
    people = ctx.session.query(Participant).filter_by(subject_key="EDC-G02").one()
    response = support.current(ctx, people, "BASELINE", "haq_di")
    support.correct(ctx, response, "aids_p2", [])
    ctx.session.commit()
    entries = _search_all(client, edc, "subject=Patient/EDC-G02&_count=1000")
    haq = [r for r in (e["resource"] for e in entries)
           if r["resourceType"] == "QuestionnaireResponse" and "/haq-di|" in r["questionnaire"]
           and r["subject"]["identifier"]["value"] == "EDC-G02"
           and _assessment(r) == "BASELINE"]
    latest = max(haq, key=lambda r: int(r["meta"]["versionId"]))
    aids = next((i for i in latest.get("item", []) if i["linkId"] == "aids_p2"), None)
    assert aids is not None, "aids_p2 = [] vanished from the QuestionnaireResponse"
    assert [a["valueCoding"]["code"] for a in aids["answer"]] == ["none-checked"]
    questionnaire, _ = _get(client, edc, "/Questionnaire/haq-di")
    offered = next(i for i in questionnaire["item"] if i["linkId"] == "aids_p2")
    assert aids["answer"][0]["valueCoding"] in [
        {k: v for k, v in o["valueCoding"].items() if k != "_display"}
        for o in offered["answerOption"]]


def test_read_has_etag_and_last_modified_and_answers_304(edc, client):
    rid = f"qr-{edc.corrected.replaces_id}"
    current, response = _get(client, edc, f"/QuestionnaireResponse/{rid}")
    assert response.headers["ETag"] == 'W/"2"'
    assert response.last_modified == edc.corrected.recorded_at.replace(microsecond=0)
    assert current["meta"]["lastUpdated"] == edc.corrected.recorded_at.isoformat()
    again = client.get(f"{BASE}/QuestionnaireResponse/{rid}",
                       headers={**edc.headers(), "If-None-Match": 'W/"2"'})
    assert again.status_code == 304
    unchanged = client.get(f"{BASE}/QuestionnaireResponse/{rid}", headers={
        **edc.headers(), "If-Modified-Since": response.headers["Last-Modified"]})
    assert unchanged.status_code == 304
    patient, response = _get(client, edc, "/Patient/EDC-G01")
    assert set(patient) == {"resourceType", "id", "meta", "identifier"}
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Last-Modified"]


def test_search_by_subject_and_last_updated(edc, client):
    mine = _search_all(client, edc, "subject=Patient/EDC-M01&_count=3")
    assert {e["resource"]["subject"]["reference"] for e in mine} == {"Patient/EDC-M01"}
    assert {_assessment(e["resource"]) for e in mine} == {"BASELINE", "INF1_D7"}
    before = (edc.corrected.recorded_at - timedelta(seconds=1)).isoformat()
    changed = _search_all(client, edc, f"_lastUpdated=gt{before.replace('+00:00', 'Z')}")
    assert [e["resource"]["id"] for e in changed] == [f"qr-{edc.corrected.replaces_id}"]
    at = edc.corrected.recorded_at.isoformat()
    assert _search_all(client, edc, f"_lastUpdated=gt{at.replace('+', '%2B')}") == []
    earlier = _search_all(client, edc, f"_lastUpdated=lt{before.replace('+', '%2B')}"
                                       "&subject=EDC-G01")
    assert len(earlier) == 8
    assert all(e["resource"]["status"] == "completed" for e in earlier)


def test_paging_holds_a_snapshot_while_data_changes(edc, client, ctx_factory, clock):
    first, _ = _get(client, edc, "/QuestionnaireResponse?_count=5")
    ids = [e["resource"]["id"] for e in first["entry"]]
    ctx = ctx_factory()
    people = ctx.session.query(Participant).filter_by(subject_key="EDC-M01").one()
    clock.advance(timedelta(minutes=5))
    support.correct(ctx, support.current(ctx, people, "BASELINE", "pain_nrs"), "pain_nrs", 0)
    ctx.session.commit()
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while url:
        page, _ = _get(client, edc, url)
        ids += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(ids) == len(set(ids)) == 27
    fresh = _search_all(client, edc, "subject=Patient/EDC-M01&_count=1000")
    assert sorted(e["resource"]["meta"]["versionId"] for e in fresh).count("2") == 1


ERRORS = [  # (path, token, status, OperationOutcome issue code)
    ("/QuestionnaireResponse", "bad", 401, "login"),
    ("/QuestionnaireResponse", "other", 404, "not-found"),
    ("/QuestionnaireResponse", "adherence", 403, "forbidden"),
    ("/Observation/obs-1-haq-di", "responses-only", 403, "forbidden"),
    ("/QuestionnaireResponse/qr-999999", None, 404, "not-found"),
    ("/QuestionnaireResponse/not-an-id", None, 404, "not-found"),
    ("/Observation/obs-1-no-such-score", None, 404, "not-found"),
    ("/Patient/NOBODY", None, 404, "not-found"),
    ("/Encounter/1", None, 404, "not-found"),
    ("/QuestionnaireResponse?_count=0", None, 400, "invalid"),
    ("/QuestionnaireResponse?_lastUpdated=gtyesterday", None, 400, "invalid"),
    ("/QuestionnaireResponse?subjct=Patient/EDC-G01", None, 400, "invalid"),
    ("/QuestionnaireResponse?since=abc", None, 400, "invalid"),
    ("/QuestionnaireResponse?_page=forged", None, 400, "invalid"),
    ("/QuestionnaireResponse?_format=xml", None, 400, "invalid"),
    ("/_history?since=forged", None, 400, "invalid"),
]


def test_errors_are_operation_outcomes(edc, client, ctx_factory):
    from pro_server.edc.services import create_client
    from pro_server.studies.services import get_study

    ctx = ctx_factory()
    _, responses_only = create_client(ctx, get_study(ctx.session, "RES001-DMPM-02"), "Items",
                                      ["responses"])
    ctx.session.commit()
    tokens = {**edc.tokens, "responses-only": responses_only, None: None,
              "bad": "pro_edc_0000000000000000." + "x" * 43}
    for path, token, status, code in ERRORS:
        outcome, _ = _get(client, edc, path, status=status, token=tokens[token])
        assert (path, outcome["issue"][0]["code"]) == (path, code)
        assert outcome["issue"][0]["diagnostics"]


def test_writes_are_refused_as_operation_outcomes(edc, client):
    response = client.post(f"{BASE}/QuestionnaireResponse", headers=edc.headers(),
                           json={"resourceType": "QuestionnaireResponse"})
    assert response.status_code == 405
    assert response.mimetype == "application/fhir+json"
    assert response.json["issue"][0]["code"] == "not-supported"
    assert client.delete(f"{BASE}/Patient/EDC-G01", headers=edc.headers()).status_code == 405


def test_unknown_parameters_are_named_in_the_outcome(edc, client):
    outcome, _ = _get(client, edc, "/QuestionnaireResponse?since=abc&_count=x", status=400)
    named = {i["expression"][0]: i["diagnostics"] for i in outcome["issue"][1:]}
    assert set(named) == {"since", "_count"}
    assert "_history?since=" in named["since"]


def test_scores_only_client_gets_responses_without_answers(edc, client):
    token = edc.tokens["scores"]
    page, _ = _get(client, edc, "/QuestionnaireResponse?_count=1000", token=token)
    assert page["entry"]
    assert all("item" not in e["resource"] for e in page["entry"])
    score, _ = _get(client, edc, f"/Observation/obs-{edc.corrected.replaces_id}-haq-di",
                    token=token)
    assert score["meta"]["versionId"] == "2"


def test_capability_statement_lists_exactly_what_is_served(edc, client):
    capability, _ = _get(client, edc, "/metadata")
    rest = capability["rest"][0]
    served = {r["type"]: sorted(i["code"] for i in r["interaction"]) for r in rest["resource"]}
    assert served == {"Questionnaire": ["read", "search-type"],
                      "QuestionnaireResponse": ["history-instance", "read", "search-type",
                                                "vread"],
                      "Observation": ["history-instance", "read", "vread"],
                      "Patient": ["read"]}
    responses = next(r for r in rest["resource"] if r["type"] == "QuestionnaireResponse")
    assert {p["name"] for p in responses["searchParam"]} == {"subject", "_lastUpdated"}
    assert capability["fhirVersion"] == "4.0.1"
    assert capability["format"] == ["application/fhir+json"]


def test_history_export_is_what_the_rest_api_serves(edc, client):
    """The incremental export (every version since a cursor) is built by the same code as the
    REST reads: each entry equals the version read, and applying the entries in order leaves
    exactly the current resources the search returns."""
    export, response = _get(client, edc, "/_history")
    assert export["type"] == "history"
    for entry in export["entry"][:40] + export["entry"][-12:]:
        resource = entry["resource"]
        version, _ = _get(client, edc, f"/{resource['resourceType']}/{resource['id']}"
                                       f"/_history/{resource['meta']['versionId']}")
        assert version == resource
        assert entry["response"]["etag"] == f'W/"{resource["meta"]["versionId"]}"'
    applied = _upserted(export["entry"])
    current = _upserted(_search_all(client, edc,
                                    "_count=1000&_revinclude=Observation:derived-from"))
    assert applied == current
    after, _ = _get(client, edc, response.headers["X-Next-Cursor"].join(
        ["/_history?since=", ""]))
    assert "entry" not in after
