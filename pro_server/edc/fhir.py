"""HL7 FHIR R4 resources (pure): a Questionnaire per instrument, a QuestionnaireResponse per
response with one Observation per score (derivedFrom the response), and a Patient per subject.

One response is one FHIR resource whatever its corrections: its logical id comes from the
first version (`qr-<id of version 1>`), each correction is the next `meta.versionId` of that
same resource (status `amended`), and the score Observations (`obs-<id of version 1>-<score>`)
are versioned in step. The REST API and the `_history` export both build every resource here.

Plain dicts, checked against the `fhir.resources.R4B` models in the tests. Spanish texts ride
on the standard translation extension. Every Observation names its scoring algorithm and
version in `method.coding` (Coding.version), every response its questionnaire `url|version`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.records import Row
from pro_server.instruments.definitions import InstrumentDefinition, Item, ScoreSpec
from pro_server.local_time import utc_to_local

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
QSTESTCD_SYSTEM = "urn:cdisc:sdtm:qstestcd"
# "Check all that apply" left with nothing checked is an answer (the participant page says
# "None checked"), not a missing one: an exclusive option of our own checklist code system.
NONE_CHECKED = "none-checked"
NONE_CHECKED_LABEL = {"en": "None checked", "es": "Ninguna marcada"}


def fhir_id(*parts: Any) -> str:
    return "-".join(str(p) for p in parts).replace("_", "-").lower()


def _texts(texts: Mapping[str, str], primary: str = "en") -> tuple[str, dict[str, Any] | None]:
    """(text in the primary language, `_text` element with the other languages)."""
    others = [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": lang}, {"url": "content", "valueString": " ".join(t.split())}]}
        for lang, t in texts.items() if lang != primary]
    return " ".join(texts[primary].split()), ({"extension": others} if others else None)


def _with_text(target: dict[str, Any], key: str, texts: Mapping[str, str]) -> None:
    text, ext = _texts(texts)
    target[key] = text
    if ext:
        target[f"_{key}"] = ext


def canonical(base_url: str, d: InstrumentDefinition) -> str:
    return f"{base_url}/Questionnaire/{fhir_id(d.code)}"


def option_system(base_url: str, d: InstrumentDefinition, item: Item) -> str:
    return f"{base_url}/CodeSystem/{fhir_id(d.code, item.id)}"


def qr_id(first_id: int) -> str:
    """The logical id of a response: every version of it shares the id of version 1."""
    return fhir_id("qr", first_id)


def obs_id(first_id: int, score_key: str) -> str:
    return fhir_id("obs", first_id, score_key)


def none_checked(base_url: str, lang: str = "en") -> dict[str, Any]:
    return {"system": f"{base_url}/CodeSystem/checklist", "code": NONE_CHECKED,
            "display": NONE_CHECKED_LABEL.get(lang, NONE_CHECKED_LABEL["en"])}


def _coding(base_url: str, d: InstrumentDefinition, item: Item, code: Any,
            lang: str = "en") -> dict[str, Any]:
    option = next(o for o in item.options if o.code == code)
    return {"system": option_system(base_url, d, item), "code": str(code),
            "display": " ".join(option.label.get(lang, option.label["en"]).split())}


def _question(base_url: str, d: InstrumentDefinition, item: Item) -> dict[str, Any]:
    q: dict[str, Any] = {"linkId": item.id,
                         "code": [{"system": QSTESTCD_SYSTEM, "code": item.sdtm_testcd}]}
    _with_text(q, "text", item.text)
    q["required"] = item.required and item.enable_when is None
    if item.type in ("single_choice", cat.MULTI):
        q["type"] = "choice"
        q["repeats"] = item.type == cat.MULTI
        options = []
        for option in item.options:
            coding = _coding(base_url, d, item, option.code)
            _, ext = _texts(option.label)
            if ext:
                coding["_display"] = ext
            options.append({"valueCoding": coding})
        if item.type == cat.MULTI:
            coding = none_checked(base_url)
            _, ext = _texts(NONE_CHECKED_LABEL)
            coding["_display"] = ext
            options.append({"extension": [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}],
                            "valueCoding": coding})
        q["answerOption"] = options
    else:
        q["type"] = "integer"
        q["extension"] = [{"url": MIN_VALUE, "valueInteger": item.min},
                          {"url": MAX_VALUE, "valueInteger": item.max}]
    if item.enable_when is not None:
        trigger = d.item(item.enable_when.item)
        q["enableWhen"] = [{"question": trigger.id, "operator": "=",
                            "answerCoding": _coding(base_url, d, trigger,
                                                    item.enable_when.contains)}]
    return q


def questionnaire(d: InstrumentDefinition, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire", "id": fhir_id(d.code),
        "meta": {"versionId": d.version}, "language": "en",
        "url": canonical(base_url, d), "version": d.version,
        "name": d.code.upper(), "status": "active", "subjectType": ["Patient"],
        "code": [{"system": "urn:cdisc:sdtm:qscat", "code": d.sdtm_qscat}],
    }
    _with_text(resource, "title", d.title)
    resource["item"] = [_question(base_url, d, item) for item in d.items]
    return resource


def searchset(resources: Iterable[Mapping[str, Any]], base_url: str, now: datetime,
              self_url: str, next_url: str | None = None, *,
              included: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """One page of search results (`included`: resources _revinclude brought along)."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [{"fullUrl": full_url(base_url, r), "resource": r, "search": {"mode": mode}}
               for mode, group in (("match", resources), ("include", included)) for r in group]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "timestamp": now.isoformat(), "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle


def _subject_identifier(study_code: str, subject_key: str) -> dict[str, Any]:
    return {"system": f"urn:pro-server:{study_code}:subject", "value": subject_key}


def _subject(study_code: str, subject_key: str) -> dict[str, Any]:
    return {"reference": f"Patient/{subject_key}",
            "identifier": _subject_identifier(study_code, subject_key), "display": subject_key}


def patient(study_code: str, subject_key: str, created_at: datetime) -> dict[str, Any]:
    """Pseudonymous: the subject key is all a consumer learns (no name, contact, site, arm)."""
    return {"resourceType": "Patient", "id": subject_key,
            "meta": {"versionId": "1", "lastUpdated": created_at.isoformat()},
            "identifier": [_subject_identifier(study_code, subject_key)]}


def _meta(row: Row) -> dict[str, str]:
    return {"versionId": str(row["version"]), "lastUpdated": row["recorded_at"].isoformat()}


def _answers(base_url: str, d: InstrumentDefinition, item: Item, value: Any,
             lang: str) -> list[dict[str, Any]]:
    if item.type == "single_choice":
        return [{"valueCoding": _coding(base_url, d, item, value, lang)}]
    if item.type == cat.MULTI:
        if not value:
            return [{"valueCoding": none_checked(base_url, lang)}]
        return [{"valueCoding": _coding(base_url, d, item, code, lang)} for code in value]
    return [{"valueInteger": value}]


def questionnaire_response(study_code: str, d: InstrumentDefinition, row: Row, base_url: str,
                           *, items: bool = True) -> dict[str, Any]:
    """One version of a response (`row["first_id"]`: the id of its version 1)."""
    tz = row["timezone"]
    answers = row["answers"] or {}
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": qr_id(row["first_id"]),
        "meta": _meta(row),
        "language": row["language"],
        "identifier": {"system": f"urn:pro-server:{study_code}:response",
                       "value": str(row["first_id"])},
        "questionnaire": f"{canonical(base_url, d)}|{row['instrument_version']}",
        "status": "completed" if row["version"] == 1 else "amended",
        "subject": _subject(study_code, row["subject_key"]),
        "authored": utc_to_local(row["submitted_at"], tz).isoformat(),
        "extension": [{"url": f"{base_url}/StructureDefinition/assessment",
                       "valueString": row["assessment_code"]}],
    }
    if items:
        qr_items = []
        for item in d.items:
            value = answers.get(item.id, {}).get("value")
            if value is None:
                continue
            qr_items.append({"linkId": item.id, "text": " ".join(item.text["en"].split()),
                             "answer": _answers(base_url, d, item, value, row["language"])})
        if qr_items:
            qr["item"] = qr_items
    return qr


def observation(study_code: str, d: InstrumentDefinition, spec: ScoreSpec, row: Row,
                base_url: str) -> dict[str, Any]:
    """One score of one version of a response, versioned with the response."""
    result = row["scores"]["scores"][spec.key]
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": obs_id(row["first_id"], spec.key),
        "meta": _meta(row),
        "status": "final" if row["version"] == 1 else "amended",
        "category": [{"coding": [{"system": CATEGORY, "code": "survey"}]}],
        "code": {"coding": [{"system": f"{base_url}/CodeSystem/scores",
                             "code": f"{d.code}.{spec.key}", "display": spec.label["en"]},
                            {"system": QSTESTCD_SYSTEM, "code": spec.sdtm_testcd}],
                 "text": spec.label["en"]},
        "subject": _subject(study_code, row["subject_key"]),
        "effectiveDateTime": utc_to_local(row["submitted_at"], row["timezone"]).isoformat(),
        "issued": row["recorded_at"].isoformat(),
        "method": {"coding": [{"system": f"{base_url}/CodeSystem/algorithms",
                               "code": row["algorithm"], "version": row["algorithm_version"]}],
                   "text": f"{row['algorithm']} {row['algorithm_version']}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{qr_id(row['first_id'])}"
                                      f"/_history/{row['version']}"}],
    }
    if result["value_text"] is None:
        obs["dataAbsentReason"] = {"coding": [{"system": ABSENT, "code": "unknown"}],
                                   "text": result["reason"]}
    else:
        quantity: dict[str, Any] = {"value": float(result["value_text"])}
        if spec.unit:
            quantity["unit"] = spec.unit
        obs["valueQuantity"] = quantity
    return obs


def score_spec(d: InstrumentDefinition, key_id: str) -> ScoreSpec | None:
    """The score whose id part (`fhir_id(key)`) is `key_id`."""
    return next((s for s in d.scores if fhir_id(s.key) == key_id), None)


def response_resources(study_code: str, d: InstrumentDefinition, row: Row, base_url: str, *,
                       items: bool = True, scores: bool = True) -> list[dict[str, Any]]:
    """The QuestionnaireResponse of one response version and, with `scores`, its
    Observations."""
    resources = [questionnaire_response(study_code, d, row, base_url, items=items)]
    if scores:
        resources += [observation(study_code, d, spec, row, base_url) for spec in d.scores]
    return resources


def full_url(base_url: str, resource: Mapping[str, Any]) -> str:
    return f"{base_url}/{resource['resourceType']}/{resource['id']}"


def history_entry(base_url: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    """A `history` Bundle entry: the version, and how it came to be (create or update)."""
    kind, rid, version = resource["resourceType"], resource["id"], resource["meta"]["versionId"]
    created = version == "1"
    return {"fullUrl": full_url(base_url, resource), "resource": resource,
            "request": {"method": "POST" if created else "PUT",
                        "url": kind if created else f"{kind}/{rid}"},
            "response": {"status": "201 Created" if created else "200 OK",
                         "location": f"{kind}/{rid}/_history/{version}",
                         "etag": f'W/"{version}"',
                         "lastModified": resource["meta"]["lastUpdated"]}}


def history_bundle(versions: list[dict[str, Any]], base_url: str, now: datetime,
                   self_url: str) -> dict[str, Any]:
    """The history of one resource (`versions` oldest first), newest first as FHIR orders."""
    return {"resourceType": "Bundle", "type": "history", "timestamp": now.isoformat(),
            "total": len(versions), "link": [{"relation": "self", "url": self_url}],
            "entry": [history_entry(base_url, r) for r in reversed(versions)]}


def bundle_stream(entries: Iterable[Mapping[str, Any]], now: datetime,
                  next_url: str | None = None, kind: str = "collection") -> Iterator[bytes]:
    """A Bundle of type `kind`, written one entry at a time."""
    head: dict[str, Any] = {"resourceType": "Bundle", "type": kind,
                            "timestamp": now.isoformat()}
    if next_url:
        head["link"] = [{"relation": "next", "url": next_url}]
    yield json.dumps(head)[:-1].encode()
    separator = ', "entry": ['
    for entry in entries:
        yield (separator + json.dumps(entry, ensure_ascii=False)).encode()
        separator = ","
    yield b"}" if separator.startswith(", ") else b"]}"
