"""REDCap-ready files (pure): a flat record CSV, its data dictionary, the event list and the
instrument-event mapping, so a longitudinal REDCap project can be built to receive the data.

Field names are `<instrument>_<sdtm test code>` in lower case (at most 18 characters, so well
under REDCap's 26); checkboxes use the option's position (1..n) as their raw code. Scores go
into plain number fields, never calculated fields (REDCap refuses imports into those).
REDCap's own structure names its single arm `arm_1`; it carries no allocation.

Import with `overwriteBehavior=overwrite` (REDCap API "Import Records"; the Data Import
Tool's "Allow blank values to overwrite existing saved values? Yes"): every row carries
every field of the export, so an answer a correction removed arrives blank and is cleared.
With `normal`, REDCap ignores blanks and would keep the old value.
Sites are data access groups (`redcap_data_access_group`). Each assessment event carries an
`assessment_status` form (completed / missed / cancelled, and why); each infusion is its own
event (`infusion_<n>_arm_1`) with the `infusion` form.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.instruments.definitions import InstrumentDefinition, Item
from pro_server.local_time import utc_to_local
from pro_server.protocol.planner import ScheduledInfusion
from pro_server.schedule.missed import row_reason

RECORD_ID = "record_id"
DAG = "redcap_data_access_group"
IMPORT_OVERWRITE_BEHAVIOR = "overwrite"
STATUS_FORM = "assessment_status"
STATUS_CODES = {"completed": 1, "missed": 2, "cancelled": 3}
INFUSION_FORM = "infusion"
INFUSION_STATUS_CODES = {"planned": 0, "given": 1, "not_given": 2}
MISSED_REASON = "not completed within the assessment window"
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
    ("tz", "Participant's time zone of _started and _submitted (IANA name)", ""),
    ("started_utc", "Started (UTC)", "datetime_seconds_ymd"),
    ("submitted_utc", "Submitted (UTC)", "datetime_seconds_ymd"),
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
    yield _row("asmt_status", STATUS_FORM, "radio", "Assessment status",
               choices=" | ".join(f"{c}, {n.title()}" for n, c in STATUS_CODES.items()),
               annotation="@READONLY")
    yield _row("asmt_reason", STATUS_FORM, "text", "Why the assessment was not done",
               annotation="@READONLY")
    yield _row("inf_number", INFUSION_FORM, "text", "Infusion number", validation="integer",
               annotation="@READONLY")
    yield _row("inf_status", INFUSION_FORM, "radio", "Infusion status",
               choices=" | ".join(f"{c}, {n.replace('_', ' ').capitalize()}"
                                  for n, c in INFUSION_STATUS_CODES.items()),
               annotation="@READONLY")
    yield _row("inf_protocol_date", INFUSION_FORM, "text", "Protocol date (Day 0 + planned day)",
               validation="date_ymd", annotation="@READONLY")
    yield _row("inf_planned_date", INFUSION_FORM, "text", "Planned date",
               validation="date_ymd", annotation="@READONLY")
    yield _row("inf_given_at", INFUSION_FORM, "text",
               "Given at (participant's local time, as the site recorded it)",
               validation="datetime_ymd", annotation="@READONLY")
    yield _row("inf_reason", INFUSION_FORM, "text", "Why the infusion was not given",
               annotation="@READONLY")


def infusion_event(number: int) -> str:
    return f"infusion_{number}_arm_1"


def dag_name(site_code: str) -> str:
    """REDCap's unique group name of a DAG named after the site code (lower case, other
    characters as `_`, at most 18 characters)."""
    return re.sub(r"[^a-z0-9]+", "_", site_code.lower()).strip("_")[:18]


def dag_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    """For REDCap's DAG import (API `content=dag`): one DAG per site."""
    yield ["data_access_group_name", "unique_group_name"]
    for code in catalogue.site_codes:
        yield [code, dag_name(code)]


def _redcap_events(catalogue: StudyCatalogue) -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(event_name, unique name, label, forms): each infusion just before its assessments."""
    def infusion_of(code: str) -> int:
        match = re.match(r"^INF(\d+)_", code)
        return int(match.group(1)) if match else 0

    placed: set[int] = set()
    for e in catalogue.events:
        n = infusion_of(e.code)
        if n and n not in placed and n <= catalogue.infusion_count:
            placed.add(n)
            yield f"infusion_{n}", infusion_event(n), f"Infusion {n}", (INFUSION_FORM,)
        yield e.code.lower(), e.redcap_name, e.visit.title(), (*e.instruments, STATUS_FORM)
    for n in range(1, catalogue.infusion_count + 1):
        if n not in placed:
            yield f"infusion_{n}", infusion_event(n), f"Infusion {n}", (INFUSION_FORM,)

def event_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    """For REDCap's event import; REDCap derives each unique name `<event_name>_arm_1`."""
    yield ["event_name", "arm_num", "unique_event_name", "custom_event_label"]
    for name, unique, label, _ in _redcap_events(catalogue):
        yield [name, 1, unique, label]


def mapping_rows(catalogue: StudyCatalogue) -> Iterator[list[Any]]:
    yield ["arm_num", "unique_event_name", "form"]
    for _, unique, _, forms in _redcap_events(catalogue):
        for code in forms:
            yield [1, unique, code]


def record_columns(catalogue: StudyCatalogue, *, items: bool = True,
                   scores: bool = True) -> list[str]:
    columns = [RECORD_ID, "redcap_event_name", DAG]
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
    columns += ["asmt_status", "asmt_reason", f"{STATUS_FORM}_complete",
                "inf_number", "inf_status", "inf_protocol_date", "inf_planned_date",
                "inf_given_at", "inf_reason", f"{INFUSION_FORM}_complete"]
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
             "timing": "late" if late else "on_time", "tz": tz,
             "started_utc": _local(row["started_at"], "UTC"),
             "submitted_utc": _local(row["submitted_at"], "UTC")}
    values.update({cat.redcap_admin_field(d.code, k): v for k, v in admin.items()})
    values[f"{d.code}_complete"] = 2
    return values


def _status_values(status: str, reason: str | None = None) -> dict[str, Any]:
    return {"asmt_status": STATUS_CODES[status], "asmt_reason": reason,
            f"{STATUS_FORM}_complete": 2}


def not_done_reason(row: Mapping[str, Any]) -> str:
    if row["status"] == "cancelled":
        return f"cancelled: {row['cancel_reason'] or ''}".rstrip(": ")
    return row_reason(row) or MISSED_REASON


def infusion_values(i: ScheduledInfusion) -> dict[str, Any]:
    return {"inf_number": i.number, "inf_status": INFUSION_STATUS_CODES[i.status],
            "inf_protocol_date": i.protocol_date.isoformat() if i.protocol_date else None,
            "inf_planned_date": i.planned_date.isoformat() if i.planned_date else None,
            "inf_given_at": i.given_at_local.strftime("%Y-%m-%d %H:%M")
            if i.given_at_local else None,
            "inf_reason": i.reason if i.status == "not_given" else None,
            f"{INFUSION_FORM}_complete": 2}


def record_rows(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
                items: bool = True, scores: bool = True,
                not_done: Iterable[Mapping[str, Any]] = (),
                participants: Iterable[tuple[Mapping[str, Any],
                                             Sequence[ScheduledInfusion]]] = (),
                ) -> Iterator[list[Any]]:
    """One CSV row per subject and event: the current versions (ordered by subject rank and
    assessment sequence), the missed or cancelled assessments and the infusions, merged."""
    columns = record_columns(catalogue, items=items, scores=scores)
    yield columns

    def answered() -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
        key = lambda r: (r["subject_rank"], r["assessment_sequence"])  # noqa: E731
        for (rank, seq), group in itertools.groupby(rows, key=key):
            values: dict[str, Any] = {}
            for row in group:
                if not values:
                    values = {RECORD_ID: row["subject_key"], DAG: dag_name(row["site_code"]),
                              "redcap_event_name":
                                  catalogue.event(row["assessment_code"]).redcap_name,
                              **_status_values("completed")}
                d = definitions(row["instrument_code"], row["instrument_version"])
                values.update(form_values(d, row, items=items, scores=scores))
            yield (rank, 0, seq), values

    def missed() -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
        for row in not_done:
            yield (row["subject_rank"], 0, row["sequence"]), {
                RECORD_ID: row["subject_key"], DAG: dag_name(row["site_code"]),
                "redcap_event_name": catalogue.event(row["code"]).redcap_name,
                **_status_values(row["status"], not_done_reason(row))}

    def infusions() -> Iterator[tuple[tuple[int, int, int], dict[str, Any]]]:
        for p, schedule in participants:
            for i in schedule:
                if i.number <= catalogue.infusion_count:
                    yield (p["subject_rank"], 1, i.number), {
                        RECORD_ID: p["subject_key"], DAG: dag_name(p["site_code"]),
                        "redcap_event_name": infusion_event(i.number), **infusion_values(i)}

    for _, values in heapq.merge(answered(), missed(), infusions(), key=lambda kv: kv[0]):
        yield [values.get(c) for c in columns]
