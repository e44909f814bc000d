"""HL7 FHIR R4 (pure): a Questionnaire per instrument, and for a pull a collection Bundle of
QuestionnaireResponses with one Observation per score (derivedFrom the response).

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
from pro_server.instruments.definitions import InstrumentDefinition, Item
from pro_server.protocol.windows import utc_to_local

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
QSTESTCD_SYSTEM = "urn:cdisc:sdtm:qstestcd"


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
        "resourceType": "Questionnaire", "id": fhir_id(d.code), "language": "en",
        "url": canonical(base_url, d), "version": d.version,
        "name": d.code.upper(), "status": "active", "subjectType": ["Patient"],
        "code": [{"system": "urn:cdisc:sdtm:qscat", "code": d.sdtm_qscat}],
    }
    _with_text(resource, "title", d.title)
    resource["item"] = [_question(base_url, d, item) for item in d.items]
    return resource


def questionnaire_bundle(definitions: Iterable[InstrumentDefinition], base_url: str,
                         now: datetime) -> dict[str, Any]:
    entries = [{"fullUrl": canonical(base_url, d), "resource": questionnaire(d, base_url)}
               for d in definitions]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(),
            "entry": entries}


def _subject(study_code: str, subject_key: str) -> dict[str, Any]:
    return {"identifier": {"system": f"urn:pro-server:{study_code}:subject",
                           "value": subject_key}, "display": subject_key}


def _answers(base_url: str, d: InstrumentDefinition, item: Item, value: Any,
             lang: str) -> list[dict[str, Any]]:
    if item.type == "single_choice":
        return [{"valueCoding": _coding(base_url, d, item, value, lang)}]
    if item.type == cat.MULTI:
        return [{"valueCoding": _coding(base_url, d, item, code, lang)} for code in value]
    return [{"valueInteger": value}]


def response_entries(study_code: str, d: InstrumentDefinition, row: Row, base_url: str, *,
                     items: bool = True, scores: bool = True) -> list[dict[str, Any]]:
    """The QuestionnaireResponse of one response version and an Observation per score."""
    tz = row["timezone"]
    authored = utc_to_local(row["submitted_at"], tz).isoformat()
    qr_id = fhir_id("qr", row["id"])
    status = "completed" if row["version"] == 1 else "amended"
    subject = _subject(study_code, row["subject_key"])
    answers = row["answers"] or {}
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": qr_id,
        "meta": {"versionId": str(row["version"]),
                 "lastUpdated": row["recorded_at"].isoformat()},
        "language": row["language"],
        "identifier": {"system": f"urn:pro-server:{study_code}:response",
                       "value": str(row["id"])},
        "questionnaire": f"{canonical(base_url, d)}|{row['instrument_version']}",
        "status": status, "subject": subject, "authored": authored,
        "extension": [{"url": f"{base_url}/StructureDefinition/assessment",
                       "valueString": row["assessment_code"]}],
    }
    if items:
        qr_items = []
        for item in d.items:
            value = answers.get(item.id, {}).get("value")
            if value is None or value == []:
                continue
            entry = {"linkId": item.id, "text": " ".join(item.text["en"].split()),
                     "answer": _answers(base_url, d, item, value, row["language"])}
            qr_items.append(entry)
        if qr_items:
            qr["item"] = qr_items
    entries = [{"fullUrl": f"{base_url}/QuestionnaireResponse/{qr_id}", "resource": qr}]
    if not scores:
        return entries
    for spec in d.scores:
        result = row["scores"]["scores"][spec.key]
        obs_id = fhir_id("obs", row["id"], spec.key)
        obs: dict[str, Any] = {
            "resourceType": "Observation", "id": obs_id,
            "status": "final" if row["version"] == 1 else "amended",
            "category": [{"coding": [{"system": CATEGORY, "code": "survey"}]}],
            "code": {"coding": [{"system": f"{base_url}/CodeSystem/scores",
                                 "code": f"{d.code}.{spec.key}",
                                 "display": spec.label["en"]},
                                {"system": QSTESTCD_SYSTEM, "code": spec.sdtm_testcd}],
                     "text": spec.label["en"]},
            "subject": subject, "effectiveDateTime": authored,
            "issued": row["recorded_at"].isoformat(),
            "method": {"coding": [{"system": f"{base_url}/CodeSystem/algorithms",
                                   "code": row["algorithm"],
                                   "version": row["algorithm_version"]}],
                       "text": f"{row['algorithm']} {row['algorithm_version']}"},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{qr_id}"}],
        }
        if result["value_text"] is None:
            obs["dataAbsentReason"] = {"coding": [{"system": ABSENT, "code": "unknown"}],
                                       "text": result["reason"]}
        else:
            quantity: dict[str, Any] = {"value": float(result["value_text"])}
            if spec.unit:
                quantity["unit"] = spec.unit
            obs["valueQuantity"] = quantity
        entries.append({"fullUrl": f"{base_url}/Observation/{obs_id}", "resource": obs})
    return entries


def bundle_stream(entries: Iterable[Mapping[str, Any]], now: datetime,
                  next_url: str | None = None) -> Iterator[bytes]:
    """A collection Bundle, written one entry at a time."""
    head: dict[str, Any] = {"resourceType": "Bundle", "type": "collection",
                            "timestamp": now.isoformat()}
    if next_url:
        head["link"] = [{"relation": "next", "url": next_url}]
    yield json.dumps(head)[:-1].encode()
    separator = ', "entry": ['
    for entry in entries:
        yield (separator + json.dumps(entry, ensure_ascii=False)).encode()
        separator = ","
    yield b"}" if separator.startswith(", ") else b"]}"
