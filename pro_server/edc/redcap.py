"""REDCap-ready files (pure): a flat record CSV, its data dictionary, the event list and the
instrument-event mapping, so a longitudinal REDCap project can be built to receive the data.

Field names are `<instrument>_<sdtm test code>` in lower case (at most 18 characters, so well
under REDCap's 26); checkboxes use the option's position (1..n) as their raw code. Scores go
into plain number fields, never calculated fields (REDCap refuses imports into those).
REDCap's own structure names its single arm `arm_1`; it carries no allocation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.instruments.definitions import InstrumentDefinition, Item
from pro_server.protocol.windows import utc_to_local

RECORD_ID = "record_id"
DICTIONARY_HEADER = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
# (suffix, label, validation) of the per-form fields carrying versions and timestamps.
ADMIN_FIELDS = (
    ("ver", "Instrument version", ""),
    ("alg", "Scoring algorithm", ""),
    ("algver", "Scoring algorithm version", ""),
    ("lang", "Language answered in", ""),
    ("started", "Started (participant's local time)", "datetime_seconds_ymd"),
    ("submitted", "Submitted (participant's local time)", "datetime_seconds_ymd"),
    ("rv", "Response version (1 = as submitted)", "integer"),
    ("timing", "on_time or late", ""),
)


def field_name(d: InstrumentDefinition, item: Item) -> str:
    return cat.redcap_field(d.code, item.sdtm_testcd)


def _label(text: str) -> str:
    return " ".join(text.split())


def _choices(item: Item) -> str:
    if item.type == cat.MULTI:
        pairs = [(n, o.label["en"]) for n, o in enumerate(item.options, start=1)]
    else:
        pairs = [(o.code, o.label["en"]) for o in item.options]
    return " | ".join(f"{code}, {_label(label)}" for code, label in pairs)


def _branching(d: InstrumentDefinition, item: Item) -> str:
    if item.enable_when is None:
        return ""
    trigger = d.item(item.enable_when.item)
    position = trigger.option_codes.index(item.enable_when.contains) + 1
    return f"[{field_name(d, trigger)}({position})] = '1'"


def _row(name: str, form: str, ftype: str, label: str, *, choices: str = "",
         validation: str = "", vmin: Any = "", vmax: Any = "", branching: str = "",
         required: bool = False, note: str = "", annotation: str = "") -> list[Any]:
    return [name, form, "", ftype, label, choices, note, validation, vmin, vmax, "", branching,
            "y" if required else "", "", "", "", "", annotation]


def dictionary_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    yield list(DICTIONARY_HEADER)
    for n, d in enumerate(catalogue.definitions):
        if n == 0:
            yield _row(RECORD_ID, d.code, "text", "Record ID (subject key)")
        for item in d.items:
            name = field_name(d, item)
            label = _label(item.text["en"])
            common = {"branching": _branching(d, item),
                      "annotation": f"@ODM {cat.item_oid(d.code, item.id)}",
                      "required": item.required and item.enable_when is None}
            if item.type in ("single_choice", cat.MULTI):
                ftype = "radio" if item.type == "single_choice" else "checkbox"
                yield _row(name, d.code, ftype, label, choices=_choices(item), **common)
            else:
                unit = f" ({item.unit})" if item.unit else ""
                yield _row(name, d.code, "text", label, validation="integer", vmin=item.min,
                           vmax=item.max, note=f"{item.min}-{item.max}{unit}", **common)
        for score in d.scores:
            yield _row(cat.redcap_field(d.code, score.sdtm_testcd), d.code, "text",
                       _label(f"Score: {score.label['en']}"), validation="number",
                       note=f"{d.scoring.algorithm} {d.scoring.algorithm_version}",
                       annotation=f"@READONLY @ODM {cat.score_oid(d.code, score.key)}")
        for suffix, label, validation in ADMIN_FIELDS:
            yield _row(cat.redcap_admin_field(d.code, suffix), d.code, "text", label,
                       validation=validation, annotation="@READONLY")


def event_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    """For REDCap's event import; REDCap derives each unique name `<event_name>_arm_1`."""
    yield ["event_name", "arm_num", "unique_event_name", "custom_event_label"]
    for e in catalogue.events:
        yield [e.code.lower(), 1, e.redcap_name, e.visit.title()]


def mapping_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    yield ["arm_num", "unique_event_name", "form"]
    for e in catalogue.events:
        for code in e.instruments:
            yield [1, e.redcap_name, code]


def record_columns(catalogue: StudyCatalogue, *, items: bool = True,
                   scores: bool = True) -> list[str]:
    columns = [RECORD_ID, "redcap_event_name"]
    for d in catalogue.definitions:
        if items:
            for item in d.items:
                name = field_name(d, item)
                columns += ([f"{name}___{n}" for n in range(1, len(item.options) + 1)]
                            if item.type == cat.MULTI else [name])
        if scores:
            columns += [cat.redcap_field(d.code, s.sdtm_testcd) for s in d.scores]
        columns += [cat.redcap_admin_field(d.code, s) for s, _, _ in ADMIN_FIELDS]
        columns.append(f"{d.code}_complete")
    return columns


def _local(at: Any, tz: str) -> str:
    return utc_to_local(at, tz).strftime("%Y-%m-%d %H:%M:%S")


def form_values(d: InstrumentDefinition, row: Row, *, items: bool, scores: bool
                ) -> dict[str, Any]:
    values: dict[str, Any] = {}
    answers: Mapping[str, Any] = row["answers"] or {}
    if items:
        for item in d.items:
            answer = answers.get(item.id)
            value = None if answer is None else answer["value"]
            name = field_name(d, item)
            if item.type == cat.MULTI:
                for n, option in enumerate(item.options, start=1):
                    values[f"{name}___{n}"] = (None if value is None
                                               else int(option.code in value))
            else:
                values[name] = value
    if scores:
        for score in d.scores:
            values[cat.redcap_field(d.code, score.sdtm_testcd)] = (
                row["scores"]["scores"][score.key]["value_text"])
    tz = row["timezone"]
    late = row["submitted_at"] > row["window_end"]
    admin = {"ver": row["instrument_version"], "alg": row["algorithm"],
             "algver": row["algorithm_version"], "lang": row["language"],
             "started": _local(row["started_at"], tz),
             "submitted": _local(row["submitted_at"], tz), "rv": row["version"],
             "timing": "late" if late else "on_time"}
    values.update({cat.redcap_admin_field(d.code, k): v for k, v in admin.items()})
    values[f"{d.code}_complete"] = 2
    return values


def record_rows(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
                items: bool = True, scores: bool = True) -> Iterator[list[Any]]:
    """One CSV row per subject and event, from current versions ordered by subject, event."""
    columns = record_columns(catalogue, items=items, scores=scores)
    yield columns
    for (subject, event), group in itertools.groupby(
            rows, key=lambda r: (r["subject_key"], r["assessment_code"])):
        values: dict[str, Any] = {RECORD_ID: subject,
                                  "redcap_event_name": catalogue.event(event).redcap_name}
        for row in group:
            d = definitions(row["instrument_code"], row["instrument_version"])
            values.update(form_values(d, row, items=items, scores=scores))
        yield [values.get(c) for c in columns]
