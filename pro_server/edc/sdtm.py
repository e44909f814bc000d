"""SDTM QS (Questionnaires) from the current response versions, as CSV and SAS XPORT v5.

One record per subject, assessment, instrument and test: each item, each option of a
multi-choice item ("check all that apply": Y/N), and each score. Scores are derived by this
system with the algorithm named in its ODM MethodDef, so they carry QSDRVFL = "Y" and their
value in QSORRES/QSSTRESC/QSSTRESN. A test with no result has QSSTAT = "NOT DONE" and the
reason in QSREASND. The mapping is documented in docs/edc-mapping.md.

A missed or cancelled assessment is one QSTESTCD = "QSALL" record per instrument, NOT DONE
with the reason. QSBLFL (SDTMIG 3.3) or QSLOBXFL (3.4) flags the baseline results; QSDY and
VISITDY count from the first infusion (day 1). The XPT writer is in `xpt.py`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.edc.xpt import Dataset
from pro_server.instruments.answers import item_applies
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.local_time import utc_to_local
from pro_server.schedule.missed import row_reason

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("QSSEQ", "Sequence Number"),
    ("QSTESTCD", "Question Short Name"),
    ("QSTEST", "Question Name"),
    ("QSCAT", "Category of Question"),
    ("QSSCAT", "Subcategory for Question"),
    ("QSORRES", "Finding in Original Units"),
    ("QSORRESU", "Original Units"),
    ("QSSTRESC", "Character Result/Finding in Std Format"),
    ("QSSTRESN", "Numeric Finding in Standard Units"),
    ("QSSTRESU", "Standard Units"),
    ("QSSTAT", "Completion Status"),
    ("QSREASND", "Reason Not Performed"),
    ("BASELINE", ""),  # QSBLFL (SDTMIG 3.3) or QSLOBXFL (3.4), see qs_dataset
    ("QSDRVFL", "Derived Flag"),
    ("VISITNUM", "Visit Number"),
    ("VISIT", "Visit Name"),
    ("VISITDY", "Planned Study Day of Visit"),
    ("QSDTC", "Date/Time of Finding"),
    ("QSDY", "Study Day of Finding"),
    ("QSEVLINT", "Evaluation Interval"),
)
BASELINE_FLAG = {"3.3": ("QSBLFL", "Baseline Flag"),
                 "3.4": ("QSLOBXFL", "Last Observation Before Exposure Flag")}
NUMERIC = frozenset({"QSSEQ", "QSSTRESN", "VISITNUM", "VISITDY", "QSDY"})
NOT_DONE = "NOT DONE"
QSALL = ("QSALL", "Questionnaire")  # a whole questionnaire not done (SDTMIG QS)
MISSED_REASON = "NOT COMPLETED WITHIN THE ASSESSMENT WINDOW"
REASND_MAX = 200


def qs_dataset(sdtmig: str = "3.3") -> Dataset:
    """QS with the baseline flag of the SDTMIG version: QSBLFL (3.3) or QSLOBXFL (3.4)."""
    if sdtmig not in BASELINE_FLAG:
        raise ValueError(f"SDTMIG version must be one of {', '.join(BASELINE_FLAG)}")
    columns = tuple(BASELINE_FLAG[sdtmig] if name == "BASELINE" else (name, label)
                    for name, label in _COLUMNS)
    return Dataset("QS", "Questionnaires", columns, NUMERIC)


def study_day(on: date | None, reference: date | None) -> int | None:
    """SDTM study day: day 1 is the reference date (the first infusion), no day 0."""
    if on is None or reference is None:
        return None
    delta = (on - reference).days
    return delta + 1 if delta >= 0 else delta


def _reference(row: Mapping[str, Any]) -> date | None:
    first = row.get("first_dose_local")
    return None if first is None else first.date()


def _result(value: Any) -> tuple[str, str, float | None]:
    text = str(value)
    return text, text, float(value)


def _local(at: Any, tz: str) -> datetime:
    return utc_to_local(at, tz).replace(tzinfo=None, microsecond=0)


def response_records(catalogue: StudyCatalogue, d: InstrumentDefinition, row: Row, *,
                     items: bool = True, scores: bool = True,
                     baseline_flag: str = "QSBLFL") -> Iterator[dict[str, Any]]:
    """QS records (without QSSEQ) of one response version."""
    event = catalogue.event(row["assessment_code"])
    submitted = _local(row["submitted_at"], row["timezone"])
    reference = _reference(row)
    baseline = event.code == "BASELINE" and (
        row.get("first_dose_local") is None or submitted < row["first_dose_local"])
    common = {"STUDYID": catalogue.study_code, "DOMAIN": "QS",
              "USUBJID": f"{catalogue.study_code}-{row['subject_key']}",
              "QSCAT": d.sdtm_qscat, "VISITNUM": float(event.visitnum), "VISIT": event.visit,
              "VISITDY": event.visitdy, "QSDTC": submitted.isoformat(),
              "QSDY": study_day(submitted.date(), reference),
              "QSEVLINT": d.recall_period.iso8601 or "", "QSDRVFL": ""}
    answers: Mapping[str, Any] = {k: v["value"] for k, v in (row["answers"] or {}).items()}
    for test in cat.qs_tests(d):
        record = {**common, "QSTESTCD": test.testcd, "QSTEST": test.test,
                  "QSSCAT": test.section or "", "QSORRES": "", "QSSTRESC": "",
                  "QSSTRESN": None, "QSSTAT": "", "QSREASND": ""}
        unit = None
        if test.score is not None:
            if not scores:
                continue
            result = row["scores"]["scores"][test.score.key]
            record["QSDRVFL"] = "Y"
            if result["value_text"] is None:
                record.update(QSSTAT=NOT_DONE,
                              QSREASND=str(result["reason"]).replace("_", " ").upper())
            else:
                orres, stresc, stresn = _result(result["value_text"])
                record.update(QSORRES=orres, QSSTRESC=stresc, QSSTRESN=stresn)
                unit = test.score.unit
        else:
            if not items:
                continue
            item = test.item
            assert item is not None
            value = answers.get(item.id)
            if value is None:
                reason = "NOT APPLICABLE" if not item_applies(item, answers) else "NOT ANSWERED"
                record.update(QSSTAT=NOT_DONE, QSREASND=reason)
            elif test.option is not None:
                checked = cat.CHECKED if test.option in value else cat.NOT_CHECKED
                record.update(QSORRES=checked, QSSTRESC=checked)
            elif item.type == "single_choice":
                label = next(o.label["en"] for o in item.options if o.code == value)
                record.update(QSORRES=" ".join(label.split()), QSSTRESC=str(value),
                              QSSTRESN=float(value))
            else:
                orres, stresc, stresn = _result(value)
                record.update(QSORRES=orres, QSSTRESC=stresc, QSSTRESN=stresn)
                unit = item.unit
        record["QSORRESU"] = record["QSSTRESU"] = unit or ""
        record[baseline_flag] = "Y" if baseline and not record["QSSTAT"] else ""
        yield record


def not_done_records(catalogue: StudyCatalogue, row: Mapping[str, Any],
                     baseline_flag: str = "QSBLFL") -> Iterator[dict[str, Any]]:
    """One QSALL record per instrument of a missed or cancelled assessment."""
    event = catalogue.event(row["code"])
    if row["status"] == "cancelled":
        reason = " ".join(f"CANCELLED: {row['cancel_reason'] or ''}".split()).rstrip(":")
    else:
        reason = " ".join((row_reason(row) or MISSED_REASON).upper().split())
    for code in row["instruments"]:
        yield {"STUDYID": catalogue.study_code, "DOMAIN": "QS",
               "USUBJID": f"{catalogue.study_code}-{row['subject_key']}",
               "QSTESTCD": QSALL[0], "QSTEST": QSALL[1],
               "QSCAT": catalogue.definition(code).sdtm_qscat, "QSSCAT": "",
               "QSORRES": "", "QSORRESU": "", "QSSTRESC": "", "QSSTRESN": None,
               "QSSTRESU": "", "QSSTAT": NOT_DONE, "QSREASND": reason[:REASND_MAX],
               baseline_flag: "", "QSDRVFL": "", "VISITNUM": float(event.visitnum),
               "VISIT": event.visit, "VISITDY": event.visitdy, "QSDTC": "", "QSDY": None,
               "QSEVLINT": ""}


def qs_records(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
               items: bool = True, scores: bool = True,
               not_done: Iterable[Mapping[str, Any]] = (),
               sdtmig: str = "3.3") -> Iterator[dict[str, Any]]:
    """Every QS record, QSSEQ numbered per subject.

    `rows` (current response versions) and `not_done` (missed or cancelled assessments) both
    come ordered by `subject_rank` (subject key order) and assessment sequence; they are
    merged in that order.
    """
    flag = BASELINE_FLAG[sdtmig][0]

    def answered() -> Iterator[tuple[tuple[int, int, int], Iterator[dict[str, Any]]]]:
        for row in rows:
            d = definitions(row["instrument_code"], row["instrument_version"])
            yield ((row["subject_rank"], row["assessment_sequence"], 0),
                   response_records(catalogue, d, row, items=items, scores=scores,
                                    baseline_flag=flag))

    def missed() -> Iterator[tuple[tuple[int, int, int], Iterator[dict[str, Any]]]]:
        for row in not_done:
            yield ((row["subject_rank"], row["sequence"], 1),
                   not_done_records(catalogue, row, flag))

    subject, seq = None, 0
    for (key, _, _), records in heapq.merge(answered(), missed(), key=lambda pair: pair[0]):
        if key != subject:
            subject, seq = key, 0
        for record in records:
            seq += 1
            record["QSSEQ"] = float(seq)
            yield record
