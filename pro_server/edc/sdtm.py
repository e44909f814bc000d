"""SDTM QS (Questionnaires) from the current response versions, as CSV and SAS XPORT v5.

One record per subject, assessment, instrument and test: each item, each option of a
multi-choice item ("check all that apply": Y/N), and each score. Scores are derived by this
system with the algorithm named in its ODM MethodDef, so they carry QSDRVFL = "Y" and their
value in QSORRES/QSSTRESC/QSSTRESN. A test with no result has QSSTAT = "NOT DONE" and the
reason in QSREASND. The mapping is documented in docs/edc-mapping.md.

A missed or cancelled assessment is one QSTESTCD = "QSALL" record per instrument, NOT DONE
with the reason. QSBLFL (SDTMIG 3.3) or QSLOBXFL (3.4) flags the baseline results; QSDY and
VISITDY count from the first infusion (day 1). The XPT writer is in `xpt.py`.

One rule builds both files: `qs_groups` gives each response (or missed assessment) as a
group, its subject values (head), the ids of its records' middles (QSTESTCD to QSDRVFL,
numbered by `Middles`, each built once per distinct test result) and its visit values
(tail); the CSV's records are those groups spelled out, the XPT file packs them as pieces.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.edc.xpt import Dataset, Group, GroupLayout
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
SCORES_KEPT = 4096
ROW_COLUMNS = ("subject_key", "subject_rank", "assessment_code", "assessment_sequence",
               "submitted_at", "timezone", "first_dose_local", "instrument_code",
               "instrument_version", "items_json", "scores_json")  # what QS reads of a row
# The version's stored export texts (`ResponseExport`): each answered item's value, and each
# score's value, value_text and reason, as JSON text (decoded here) or decoded
JSON_COLUMNS = ("items_json", "scores_json")


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


QS_HEAD = 3  # STUDYID, DOMAIN, USUBJID; then QSSEQ
QS_MIDDLE = 13  # QSTESTCD to QSDRVFL: the test and its result; then VISITNUM to QSEVLINT


def qs_split(sdtmig: str = "3.3") -> GroupLayout:
    """QS records as groups: a response's (or a missed assessment's) records share the head
    (subject) and the tail (visit, date, study day, evaluation interval)."""
    return GroupLayout(qs_dataset(sdtmig), QS_HEAD, QS_MIDDLE)


_SCORE, _OPTIONS, _ANSWER = range(3)
Plan = list[tuple[int, str, tuple[cat.QsTest, ...], dict[Any, list[int]]]]


class Middles:
    """The distinct middles (QSTESTCD to QSDRVFL) of one export's records, numbered as they
    are first met: a test's middle depends only on the instrument version, the test, its
    answer or score and the baseline flag, so it is built once per distinct one."""

    def __init__(self) -> None:
        self.table: list[tuple[Any, ...]] = []
        self._ids: dict[tuple[Any, ...], int] = {}
        self._plans: dict[tuple[str, str, bool, bool, bool], Plan] = {}
        self._results: dict[str, Mapping[str, Any]] = {}
        self.last_when: tuple[Any, Any] = (None, None)  # the last row's `_when`, by its key

    def number(self, middle: tuple[Any, ...]) -> int:
        n = self._ids.get(middle)
        if n is None:
            n = self._ids[middle] = len(self.table)
            self.table.append(middle)
        return n

    def results(self, scores: str | Mapping[str, Any]) -> Mapping[str, Any]:
        """The results of a response's scores (`scores_json`); as JSON text, each distinct
        text is decoded once (many responses share their scores), up to `SCORES_KEPT`."""
        if not isinstance(scores, str):
            return scores
        results = self._results.get(scores)
        if results is None:
            if len(self._results) >= SCORES_KEPT:
                self._results.clear()
            results = self._results[scores] = json.loads(scores)
        return results

    def plan(self, d: InstrumentDefinition, baseline: bool, items: bool, scores: bool
             ) -> Plan:
        """The tests of `d` that are exported, as (kind, the score key or item id, the
        tests, their middle ids by the key of their result): one test per score and per
        answer; the options of a multi-choice item together (one key: the options ticked)."""
        key = (d.code, d.version, baseline, items, scores)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = []
            for test in cat.qs_tests(d):
                if test.score is not None:
                    if scores:
                        plan.append((_SCORE, test.score.key, (test,), {}))
                elif items:
                    assert test.item is not None
                    if test.option is None:
                        plan.append((_ANSWER, test.item.id, (test,), {}))
                    elif plan and plan[-1][:2] == (_OPTIONS, test.item.id):
                        plan[-1] = (_OPTIONS, test.item.id, (*plan[-1][2], test), {})
                    else:
                        plan.append((_OPTIONS, test.item.id, (test,), {}))
        return plan


def _result(value: Any) -> tuple[str, str, float | None]:
    text = str(value)
    return text, text, float(value)


def _local(at: Any, tz: str) -> datetime:
    return utc_to_local(at, tz).replace(tzinfo=None, microsecond=0)


def _middle(d: InstrumentDefinition, test: cat.QsTest, answers: Mapping[str, Any],
            results: Mapping[str, Any], baseline: bool) -> tuple[Any, ...]:
    """QSTESTCD to QSDRVFL of one test's record."""
    orres = stresc = stat = reasnd = drvfl = ""
    stresn: float | None = None
    unit = None
    if test.score is not None:
        result = results[test.score.key]
        drvfl = "Y"
        if result["value_text"] is None:
            stat, reasnd = NOT_DONE, str(result["reason"]).replace("_", " ").upper()
        else:
            orres, stresc, stresn = _result(result["value_text"])
            unit = test.score.unit
    else:
        item = test.item
        assert item is not None
        value = answers.get(item.id)
        if value is None:
            reason = "NOT APPLICABLE" if not item_applies(item, answers) else "NOT ANSWERED"
            stat, reasnd = NOT_DONE, reason
        elif test.option is not None:
            orres = stresc = cat.CHECKED if test.option in value else cat.NOT_CHECKED
        elif item.type == "single_choice":
            orres, stresc, stresn = _choice_label(d, item, value), str(value), float(value)
        else:
            orres, stresc, stresn = _result(value)
            unit = item.unit
    return (test.testcd, test.test, d.sdtm_qscat, test.section or "", orres, unit or "",
            stresc, stresn, unit or "", stat, reasnd, "Y" if baseline and not stat else "",
            drvfl)


def _head(catalogue: StudyCatalogue, subject_key: str) -> tuple[str, str, str]:
    return catalogue.study_code, "QS", f"{catalogue.study_code}-{subject_key}"


def _when(catalogue: StudyCatalogue, row: Row) -> tuple[cat.Event, bool, int | None, str]:
    """The event, baseline or not, study day and QSDTC (local submission time) of a row."""
    event = catalogue.event(row["assessment_code"])
    submitted = _local(row["submitted_at"], row["timezone"])
    baseline = event.code == "BASELINE" and (
        row.get("first_dose_local") is None or submitted < row["first_dose_local"])
    return (event, baseline, study_day(submitted.date(), _reference(row)),
            submitted.isoformat())


def _middle_ids(d: InstrumentDefinition, plan: Plan, answers: Mapping[str, Any],
                results: Mapping[str, Any], baseline: bool, middles: Middles) -> list[int]:
    ids: list[int] = []
    for kind, name, tests, known in plan:
        # the key of what the middles depend on besides the tests: the score's text and
        # reason; the options ticked; the answer with its type (1 and 1.0 read
        # differently); not answered: whether the item applied
        if kind == _SCORE:
            result = results[name]
            key: Any = (result["value_text"], result["reason"])
        else:
            value = answers.get(name)
            if value is None:
                assert tests[0].item is not None
                key = item_applies(tests[0].item, answers)
            elif kind == _OPTIONS:
                key = (value.__class__, tuple(value))
            else:
                key = (value.__class__, value)
        found = known.get(key)
        if found is None:
            found = known[key] = [middles.number(_middle(d, test, answers, results, baseline))
                                  for test in tests]
        ids += found
    return ids


def response_group(catalogue: StudyCatalogue, d: InstrumentDefinition, row: Row,
                   middles: Middles, *, items: bool = True, scores: bool = True
                   ) -> tuple[tuple[Any, ...], list[int], tuple[Any, ...]]:
    """(head, middle ids, tail) of one response version's QS records."""
    when = (row["assessment_code"], row["submitted_at"], row["timezone"],
            row.get("first_dose_local"))
    if middles.last_when[0] != when:  # the responses of one assessment come together
        middles.last_when = when, _when(catalogue, row)
    event, baseline, day, dtc = middles.last_when[1]
    plan = middles.plan(d, baseline, items, scores)
    answers = row["items_json"]
    if answers.__class__ is str:
        answers = json.loads(answers)
    ids = _middle_ids(d, plan, answers, middles.results(row["scores_json"]), baseline, middles)
    tail = (float(event.visitnum), event.visit, event.visitdy, dtc, day,
            d.recall_period.iso8601 or "")
    return _head(catalogue, row["subject_key"]), ids, tail


_LABELS: dict[tuple[str, str, str, Any], str] = {}


def _choice_label(d: InstrumentDefinition, item: Any, value: Any) -> str:
    """QSORRES of a single-choice answer: its English label, blanks collapsed (once each)."""
    key = (d.code, d.version, item.id, value)
    label = _LABELS.get(key)
    if label is None:
        text = next(o.label["en"] for o in item.options if o.code == value)
        label = _LABELS[key] = " ".join(text.split())
    return label


def not_done_group(catalogue: StudyCatalogue, row: Mapping[str, Any], middles: Middles
                   ) -> tuple[tuple[Any, ...], list[int], tuple[Any, ...]]:
    """(head, middle ids, tail) of a missed or cancelled assessment: one QSALL record per
    instrument."""
    event = catalogue.event(row["code"])
    if row["status"] == "cancelled":
        reason = " ".join(f"CANCELLED: {row['cancel_reason'] or ''}".split()).rstrip(":")
    else:
        reason = " ".join((row_reason(row) or MISSED_REASON).upper().split())
    ids = [middles.number((*QSALL, catalogue.definition(code).sdtm_qscat, "", "", "", "",
                           None, "", NOT_DONE, reason[:REASND_MAX], "", ""))
           for code in row["instruments"]]
    tail = (float(event.visitnum), event.visit, event.visitdy, "", None, "")
    return _head(catalogue, row["subject_key"]), ids, tail


def qs_groups(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any,
              middles: Middles, *, items: bool = True, scores: bool = True,
              not_done: Iterable[Mapping[str, Any]] = ()) -> Iterator[Group]:
    """Every QS record as groups (`xpt.Group`), QSSEQ numbered per subject.

    `rows` (current response versions) and `not_done` (missed or cancelled assessments) both
    come ordered by `subject_rank` (subject key order) and assessment sequence; they are
    merged in that order.
    """

    def answered() -> Iterator[tuple[tuple[int, int, int], Row | None, Mapping[str, Any]]]:
        for row in rows:
            yield (row["subject_rank"], row["assessment_sequence"], 0), row, row

    def missed() -> Iterator[tuple[tuple[int, int, int], Row | None, Mapping[str, Any]]]:
        for row in not_done:
            yield (row["subject_rank"], row["sequence"], 1), None, row

    subject, seq = None, 0
    for (key, _, _), response, row in heapq.merge(answered(), missed(),
                                                  key=lambda t: t[0]):
        if key != subject:
            subject, seq = key, 0
        if response is None:
            head, ids, tail = not_done_group(catalogue, row, middles)
        else:
            d = definitions(response["instrument_code"], response["instrument_version"])
            head, ids, tail = response_group(catalogue, d, response, middles, items=items,
                                             scores=scores)
        yield head, seq + 1, ids, tail
        seq += len(ids)


def qs_records(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
               items: bool = True, scores: bool = True,
               not_done: Iterable[Mapping[str, Any]] = (),
               sdtmig: str = "3.3") -> Iterator[dict[str, Any]]:
    """Every QS record as a dict (the CSV), from the same groups as the XPT file."""
    names = qs_dataset(sdtmig).names
    middles = Middles()
    for head, first, ids, tail in qs_groups(catalogue, rows, definitions, middles,
                                            items=items, scores=scores, not_done=not_done):
        for number, n in enumerate(ids, start=first):
            yield dict(zip(names, (*head, float(number), *middles.table[n], *tail),
                           strict=True))
