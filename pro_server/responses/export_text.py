"""The export texts of a response version, built once when it is stored (`ResponseExport`).

A version never changes, so what the EDC exports write of its answers and scores is built
here, by the one builder, in the transaction that stores the version: the records API's
`items` (each answered item's value), `unanswered` (why each item without an answer has none:
`not_applicable` when its enable_when was not met, else `not_answered`) and `scores` (value,
value_text and reason of each score) as JSON text, as `json.dumps(..., ensure_ascii=False)`
writes them inside the record; and ODM's answers and scores ItemGroupData as XML text
(multi-choice answers as Y/N per option; scores by value_text, an unscored one left out),
with a Transactional file's Update of a correction also removing (`TransactionType="Remove"`)
what the correction emptied. The exports join these texts with what can change after the
version was stored (subject key, site, assessment window and time zone), on every backend.

The answers and scores are read in key order, as they are stored (JSONText sorts keys), so a
version's texts are the same whether built from it as just made or as read back; the texts
read only the members that JSON keeps as they are (item values from a request's JSON, a
score's number, text and reason), so nothing needs a round trip through JSON first.

The version's three instants (started, submitted, recorded) never change either: their UTC
texts are stored, and their local texts with the time zone they were made for (`zone`, the
assessment's when the version was stored). An assessment's time zone can change later, so
an export uses the stored local texts only where the assessment's zone is still `zone`, and
formats the others again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from lxml import etree
from sqlalchemy import Table
from sqlalchemy.orm import Session

from pro_server.db import insert_rows_now
from pro_server.instruments import default_registry
from pro_server.instruments.answers import item_applies
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.instruments.oids import (
    CHECKED,
    NOT_CHECKED,
    item_group_oid,
    score_oid,
)
from pro_server.local_time import utc_to_local
from pro_server.responses.models import Response, ResponseExport
from pro_server.schedule.models import Assessment

INSTANTS = ("started", "submitted", "recorded")  # `<name>_at` of a version


def as_stored(value: Any) -> Any:
    """A JSON column's value as it reads back (JSONText sorts keys)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def item_values(answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each item's value, in item-id order (the stored JSON's)."""
    return {item: answer["value"] for item, answer in sorted((answers or {}).items())}


def unanswered(definition: InstrumentDefinition, values: Mapping[str, Any]) -> dict[str, str]:
    """Why each item without an answer has none (the QSREASND of QS, in lower case)."""
    return {item.id: "not_answered" if item_applies(item, values) else "not_applicable"
            for item in definition.items if values.get(item.id) is None}


def score_values(scores: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each score's value, value_text and reason, in score-key order (the stored JSON's)."""
    return {key: {"value": s["value"], "value_text": s["value_text"], "reason": s["reason"]}
            for key, s in sorted(scores["scores"].items())}


def item_data_values(d: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """ItemOID → value for the answered items (multi-choice: Y/N per option)."""
    values: dict[str, str] = {}
    for item_id, oid, options in d.item_oids:
        answer = answers.get(item_id)
        value = answer["value"] if type(answer) is dict or isinstance(answer, Mapping) else answer
        if value is None:
            continue
        if options is not None:
            for code, option_oid in options:
                values[option_oid] = CHECKED if code in value else NOT_CHECKED
        else:
            values[oid] = str(value)
    return values


def score_data_values(d: InstrumentDefinition, scores: Mapping[str, Any]) -> dict[str, str]:
    return {score_oid(d.code, key): s["value_text"]
            for key, s in sorted(scores["scores"].items()) if s["value_text"] is not None}


@lru_cache(maxsize=16384)  # the repeated leaves stay
def leaf(name: str, attrib: tuple[tuple[str, str], ...]) -> str:
    """An empty element as lxml serialises it (its escaping), without a namespace: written
    inside the file's ODM element, whose default namespace is the ODM one."""
    return etree.tostring(etree.Element(name, dict(attrib)), encoding="unicode")


def item_group(oid: str, values: Mapping[str, str], removed: Iterable[str] = ()) -> str:
    """An ItemGroupData of ItemData values and removals, '' when it would be empty."""
    removed = list(removed)
    if not values and not removed:
        return ""
    return "".join([f'<ItemGroupData ItemGroupOID="{oid}">',
                    *[leaf("ItemData", (("ItemOID", k), ("Value", v)))
                      for k, v in values.items()],
                    *[leaf("ItemData", (("ItemOID", k), ("TransactionType", "Remove")))
                      for k in removed],
                    "</ItemGroupData>"])


_JSON = json.JSONEncoder(ensure_ascii=False)  # `json.dumps(..., ensure_ascii=False)`, made once


def _json(value: Any) -> str:
    return _JSON.encode(value)


def export_texts(d: InstrumentDefinition, answers: Any, scores: Any,
                 previous: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """The `ResponseExport` columns (but the id) of a version of `d` with these stored answers
    and scores; `previous`: the stored answers and scores of the version it corrects."""
    values = item_values(answers)
    odm_answers, odm_scores = item_data_values(d, answers or {}), score_data_values(d, scores)
    answers_oid, scores_oid = item_group_oid(d.code), item_group_oid(d.code, "SCORES")
    texts: dict[str, Any] = {
        "items_json": _json(values), "unanswered_json": _json(unanswered(d, values)),
        "scores_json": _json(score_values(scores)),
        "odm_items": item_group(answers_oid, odm_answers),
        "odm_scores": item_group(scores_oid, odm_scores),
        "odm_items_update": None, "odm_scores_update": None}
    if previous is not None:
        before_answers = item_data_values(d, previous[0] or {})
        removed = [oid for oid in before_answers if oid not in odm_answers]
        if removed:
            texts["odm_items_update"] = item_group(answers_oid, odm_answers, removed)
        before_scores = score_data_values(d, previous[1]) if previous[1] else {}
        removed = [oid for oid in before_scores if oid not in odm_scores]
        if removed:
            texts["odm_scores_update"] = item_group(scores_oid, odm_scores, removed)
    return texts


def utc_text(at: datetime) -> str:
    """An instant's ISO 8601 text in UTC with a Z (the records API's "utc")."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(at: datetime, tz: str) -> str:
    """An instant's wall time in `tz` with its UTC offset (ISO 8601)."""
    return utc_to_local(at, tz).isoformat()


def instant_texts(instants: Mapping[str, Any], zone: str) -> dict[str, str]:
    """The `ResponseExport` instant columns: `<name>_utc` and `<name>_local` (in `zone`) of
    the version's `<name>_at` instants, and `zone`."""
    texts = {"zone": zone}
    for name in INSTANTS:
        texts[f"{name}_utc"], texts[f"{name}_local"] = _instant_text(instants[f"{name}_at"],
                                                                     zone)
    return texts


@lru_cache(maxsize=64)  # a submission's versions share their start and submission instants
def _instant_text(at: datetime, zone: str) -> tuple[str, str]:
    return utc_text(at), local_text(at, zone)


def export_row(version: Response, replaces: Response | None = None, *,
               zone: str | None = None) -> dict[str, Any]:
    """The `ResponseExport` row of a stored version (`replaces`: the version it corrects;
    `zone`: its assessment's time zone, by default read from the assessment)."""
    return version_export_row({key: getattr(version, key) for key in _VERSION_KEYS}, replaces,
                              zone=version.assessment.timezone if zone is None else zone)


_VERSION_KEYS = ("id", "instrument_code", "instrument_version", "answers", "scores",
                 *(f"{n}_at" for n in INSTANTS))


def version_export_row(version: Mapping[str, Any], replaces: Response | None = None, *,
                       zone: str) -> dict[str, Any]:
    """`export_row` of a stored version's row (its columns by key, with its id)."""
    d = default_registry().get(version["instrument_code"], version["instrument_version"])
    previous = None if replaces is None else (replaces.answers, replaces.scores)
    return {"response_id": version["id"], **export_texts(
        d, version["answers"], version["scores"], previous), **instant_texts(version, zone)}


def _zone(session: Session, assessment_id: int) -> str:
    assessment = session.get(Assessment, assessment_id)
    assert assessment is not None, "a version's assessment exists"
    return assessment.timezone


_TABLE = cast(Table, ResponseExport.__table__)


def store_export_texts(session: Session, versions: Iterable[Mapping[str, Any]],
                       replaces: Response | None = None) -> None:
    """The export texts of `versions` (rows of versions just stored, with their ids), in one
    statement. Their assessment is in the session (the caller stores its versions):
    `Session.get` finds it there, with no statement."""
    zones: dict[int, str] = {}  # by assessment id: a submission's versions share one
    rows = []
    for version in versions:
        assessment_id = version["assessment_id"]
        if assessment_id not in zones:
            zones[assessment_id] = _zone(session, assessment_id)
        rows.append(version_export_row(version, replaces, zone=zones[assessment_id]))
    insert_rows_now(session, _TABLE, rows)
