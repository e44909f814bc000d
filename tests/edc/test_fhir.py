"""FHIR R4: Questionnaires and a Bundle of QuestionnaireResponses with score Observations,
each parsed by the fhir.resources R4B models (wire-compatible with R4)."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle

BASE = "/api/v1/edc/studies/RES001-DMPM-02/fhir"


def _bundle(client, edc, path):
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    data = json.loads(response.data)
    return data, Bundle.model_validate(data), response


def test_questionnaires_parse_and_carry_both_languages(edc, client):
    data, bundle, _ = _bundle(client, edc, "/Questionnaire")
    resources = [e.resource for e in bundle.entry]
    assert {r.get_resource_type() for r in resources} == {"Questionnaire"}
    assert {r.name for r in resources} == {"PAIN_NRS", "PTGA_VAS", "HAQ_DI", "PROMIS_GH",
                                           "RAND36"}
    haq = next(r for r in data["entry"] if r["resource"]["name"] == "HAQ_DI")["resource"]
    dress = haq["item"][0]
    assert dress["type"] == "choice"
    assert len(dress["answerOption"]) == 4
    spanish = dress["_text"]["extension"][0]["extension"]
    assert {"url": "lang", "valueCode": "es"} in spanish
    other = next(i for i in haq["item"] if i["linkId"] == "aids_other_p1")
    assert other["enableWhen"][0]["question"] == "aids_p1"


def test_responses_bundle_has_every_version_and_an_observation_per_score(edc, client):
    data, bundle, response = _bundle(client, edc, "/QuestionnaireResponse")
    assert all(e.resource.get_resource_type() in ("QuestionnaireResponse", "Observation")
               for e in bundle.entry)
    entries = [e["resource"] for e in data["entry"]
               if e["resource"]["subject"]["identifier"]["value"].startswith("EDC-")]
    responses = [r for r in entries if r["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == 28
    amended = [r for r in responses if r["status"] == "amended"]
    assert len(amended) == 1
    assert amended[0]["meta"]["versionId"] == "2"
    observations = [r for r in entries if r["resourceType"] == "Observation"]
    haq_obs = [o for o in observations if o["code"]["coding"][0]["code"] == "haq_di.haq_di"]
    assert len(haq_obs) == 7
    assert haq_obs[0]["method"]["coding"][0] == {
        "system": f"http://127.0.0.1:5000{BASE}/CodeSystem/algorithms",
        "code": "haq_di_standard", "version": "1.0.0"}
    assert haq_obs[0]["derivedFrom"][0]["reference"].startswith("QuestionnaireResponse/qr-")
    assert response.headers["X-Next-Cursor"]
    empty, _, _ = _bundle(client, edc, f"/QuestionnaireResponse?since="
                                       f"{response.headers['X-Next-Cursor']}")
    assert "entry" not in empty
