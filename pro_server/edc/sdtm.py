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

import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, cast

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
ROW_COLUMNS = ("subject_key", "subject_rank", "assessment_code", "assessment_sequence",
               "submitted_at", "timezone", "first_dose_local", "instrument_code",
               "instrument_version", "items_json", "unanswered_json",
               "scores_json")  # what QS reads of a row
# The version's stored export texts (`ResponseExport`): each answered item's value, why each
# unanswered item has none, and each score's value, value_text and reason, as JSON text
# (read by `_Plan`) or decoded (`unanswered_json` may be left out)
JSON_COLUMNS = ("items_json", "unanswered_json", "scores_json")


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


TEXTS_KEPT = 512  # per instrument version and part: the ids of whole answers or scores texts
_SEP = ', "'  # between two members of a JSON object (or two strings of a list)
_GLUED = '"\x01"'  # '", "' (a list's strings) with no _SEP: a raw \x01 is never in JSON text


def _member(name: str, value: Any) -> str:
    """The text of one member of a JSON object as `json.dumps` writes it, but its opening
    quote: what `_members` splits an object's text into."""
    return json.dumps({name: value}, ensure_ascii=False)[2:-1]


def _members(text: str, glue: bool) -> list[str]:
    """The texts of a JSON object's members (as `_member` writes them) when no member holds
    _SEP; `glue`: first join a list's strings (an answer's options). Where a member does,
    its text comes in pieces, the first one unbalanced: never a member's text."""
    if len(text) <= 2:
        return []
    inner = text[2:-1]
    return (inner.replace('", "', _GLUED) if glue else inner).split(_SEP)


_RESULT_SEP = '}, "'  # between two members of an object of objects (a response's scores)


def _results(text: str) -> list[str]:
    """The texts of the members of an object of objects (the scores' results) as
    `_result_member` writes them: a closing brace then _SEP is never inside a JSON string
    (its quote would be escaped), only after a member whose value is an object."""
    return text[2:-2].split(_RESULT_SEP) if len(text) > 2 else []


def _result_member(name: str, value: Any) -> str | None:
    """A score's member text as `_results` splits it (its object's closing brace left out),
    if its value is an object that holds no other one."""
    text = _member(name, value)
    return text[:-1] if text.endswith("}") and _RESULT_SEP not in text else None


# The middle ids of some records, packed as the bytes of an array("L"): a response's are
# joined from its entries' in C, and handed on (`ids`) as one array, copied in C by the
# XPT spool
Ids = bytes


def _packed(ids: Iterable[int]) -> Ids:
    return array("L", ids).tobytes()


class _Plan:
    """The exported tests of one instrument version, for one baseline flag: the answers'
    (one entry per item: the options of a multi-choice item together), then the scores'.

    A test's middle depends only on its answer or score (for an unanswered item: on whether
    it applied), so each entry keeps the middle ids it built by the key of what they depend
    on: an answer's `repr` (1, 1.0 and True read differently; a list keeps its order), an
    unanswered conditional item's applying, a score's value text and reason.

    The stored texts are read without decoding them, as long as each of their members was
    met before: an answer's member (`"dress": 2`), an unanswered item's member in the
    stored `unanswered_json` (`"aids_other_p1": "not_applicable"`: whether it applied, as
    the version was stored) and a score's member (its object) each give the entry and its
    ids; a response's are those of every entry once, sorted into test order. Any other text
    (a member not met yet, an answer left null, a text not as `json.dumps` writes it) is
    decoded, and its members kept for the next response."""

    def __init__(self, d: InstrumentDefinition, baseline: bool, items: bool, scores: bool
                 ) -> None:
        self.d, self.baseline = d, baseline
        self.evlint = d.recall_period.iso8601 or ""
        answers: list[tuple[Any, tuple[cat.QsTest, ...]]] = []
        self.scores: list[tuple[str, tuple[cat.QsTest, ...]]] = []
        for test in cat.qs_tests(d):
            if test.score is not None:
                if scores:
                    self.scores.append((test.score.key, (test,)))
            elif items:
                if test.option is not None and answers and answers[-1][0] is test.item:
                    answers[-1] = (test.item, (*answers[-1][1], test))
                else:
                    answers.append((test.item, (test,)))
        self.answers = answers
        self.names = [item.id for item, _ in answers]
        self.known: list[dict[Any, Ids]] = [{} for _ in answers]
        self.conditional = [(n, item) for n, (item, _) in enumerate(answers)
                            if item.enable_when is not None]
        self.places = {name: n for n, name in enumerate(self.names)}
        self.members: list[dict[str, Ids]] = [{} for _ in answers]
        self.shapes: dict[str, Shape] = {}  # by `unanswered_json`
        self.score_names = [key for key, _ in self.scores]
        self.score_places = {name: n for n, name in enumerate(self.score_names)}
        self.score_known: list[dict[Any, Ids]] = [{} for _ in self.scores]
        self.score_members: list[dict[str, Ids]] = [{} for _ in self.scores]
        self.score_shape: Shape | None = None
        self.by_text: dict[str, Ids] = {}
        self.by_scores: dict[str, Ids] = {}

    def answer_ids(self, text: str | Mapping[str, Any], unanswered: str | None,
                   middles: Middles) -> Ids:
        """The answers' middle ids, from `items_json` and `unanswered_json`."""
        if not self.answers:
            return b""
        pieces: list[str] = []
        if isinstance(text, str):
            if isinstance(unanswered, str):
                pieces = _members(text, True) + _members(unanswered, False)
                shape = self.shapes.get(unanswered)
                if shape is not None:
                    ids = _read(shape, pieces)
                    if ids is not None:
                        return ids
            answers: Mapping[str, Any] = json.loads(text)
        else:
            answers = text
        keys: list[Any] = list(map(repr, map(answers.get, self.names)))
        for n, item in self.conditional:
            if keys[n] == "None":
                keys[n] = item_applies(item, answers)  # a bool: never an answer's repr
        found: list[Ids | None] = list(map(_GET, self.known, keys))
        for n, ids in enumerate(found):
            if ids is None:
                found[n] = self.known[n][keys[n]] = ids = _packed(
                    middles.number(_middle(self.d, test, answers, {}, self.baseline))
                    for test in self.answers[n][1])
                # the member that stands for this key from now on
                name, value = self.names[n], answers.get(self.names[n])
                if value is not None:
                    member = _member(name, value).replace('", "', _GLUED)
                else:  # as `unanswered_json` says why
                    member = _member(name, "not_answered" if keys[n] in ("None", True)
                                     else "not_applicable")
                self.members[n][member] = ids
        if pieces and unanswered not in self.shapes:
            shape = _shape([self.places.get(piece.split('": ', 1)[0]) for piece in pieces],
                           self.members)
            if shape is not None:
                if len(self.shapes) >= TEXTS_KEPT:
                    self.shapes.clear()
                self.shapes[cast(str, unanswered)] = shape
        return b"".join(cast(list[Ids], found))

    def score_ids(self, text: str | Mapping[str, Any], middles: Middles) -> Ids:
        """The scores' middle ids, from `scores_json`."""
        if not self.scores:
            return b""
        pieces: list[str] = []
        if isinstance(text, str):
            pieces = _results(text)
            if self.score_shape is not None:
                ids = _read(self.score_shape, pieces)
                if ids is not None:
                    return ids
            results: Mapping[str, Any] = json.loads(text)
        else:
            results = text
        keys = list(map(_SCORE_KEY, map(results.__getitem__, self.score_names)))
        found: list[Ids | None] = list(map(_GET, self.score_known, keys))
        for n, ids in enumerate(found):
            if ids is None:
                found[n] = self.score_known[n][keys[n]] = ids = _packed(
                    middles.number(_middle(self.d, test, {}, results, self.baseline))
                    for test in self.scores[n][1])
            # the member that stands for this result from now on
            name = self.score_names[n]
            member = _result_member(name, results[name])
            if member is not None:
                self.score_members[n][member] = ids
        if pieces:
            self.score_shape = _shape(
                [self.score_places.get(piece.split('": ', 1)[0]) for piece in pieces],
                self.score_members) or self.score_shape
        return b"".join(cast(list[Ids], found))

    def ids(self, row: Row, middles: Middles) -> array[int]:
        """The middle ids of a response's records, from its `items_json`,
        `unanswered_json` and `scores_json` (JSON text, or decoded). The ids of the last
        `TEXTS_KEPT` distinct texts are kept by text: many responses share them."""
        text = row["items_json"]
        first = self.by_text.get(text) if isinstance(text, str) else None
        if first is None:
            first = self.answer_ids(text, row.get("unanswered_json"), middles)
            if isinstance(text, str):
                _keep(self.by_text, text, first)
        text = row["scores_json"]
        last = self.by_scores.get(text) if isinstance(text, str) else None
        if last is None:
            last = self.score_ids(text, middles)
            if isinstance(text, str):
                _keep(self.by_scores, text, last)
        return array("L", first + last)


# The members' entries of a text of one shape (the entries' order, and those unanswered):
# each entry's members (its member texts and their ids) in the text's order, and what takes
# the entries' ids, in the text's order, into the plan's order
Shape = tuple[list[dict[str, Ids]], Callable[[list[Ids]], Sequence[Ids]]]
_GET: Callable[[dict[Any, Ids], Any], Ids | None] = dict.get


def _shape(places: list[int | None], members: list[dict[str, Ids]]) -> Shape | None:
    """The shape of a text whose members are those of the entries at `places` (None: not
    a member of one), if it has each of them once."""
    if None in places or sorted(places) != list(range(len(members))):  # type: ignore[type-var]
        return None
    order = cast(list[int], places)
    inverse = [0] * len(order)
    for at, n in enumerate(order):
        inverse[n] = at
    # itemgetter of one place gives the item, not a tuple of it: one entry is in order
    in_order = itemgetter(*inverse) if len(inverse) > 1 else _same
    return [members[n] for n in order], in_order


def _same(found: list[Ids]) -> list[Ids]:
    return found


def _read(shape: Shape, pieces: list[str]) -> Ids | None:
    """The ids of a text's members (`pieces`) in the plan's order, if the text has the shape
    and each member was met before (else None). An entry's ids are never empty (it has a
    test at least)."""
    members, in_order = shape
    if len(pieces) != len(members):
        return None
    found = list(map(_GET, members, pieces))
    if not all(found):
        return None
    return b"".join(in_order(found))  # type: ignore[arg-type]


def _keep(kept: dict[str, Ids], text: str, ids: Ids) -> None:
    if len(kept) >= TEXTS_KEPT:
        kept.clear()
    kept[text] = ids


_SCORE_KEY = itemgetter("value_text", "reason")


class Middles:
    """The distinct middles (QSTESTCD to QSDRVFL) of one export's records, numbered as they
    are first met: a test's middle depends only on the instrument version, the test, its
    answer or score and the baseline flag, so it is built once per distinct one."""

    def __init__(self) -> None:
        self.table: list[tuple[Any, ...]] = []
        self._ids: dict[tuple[Any, ...], int] = {}
        self.plans: dict[tuple[str, str, bool, bool, bool], _Plan] = {}

    def number(self, middle: tuple[Any, ...]) -> int:
        n = self._ids.get(middle)
        if n is None:
            n = self._ids[middle] = len(self.table)
            self.table.append(middle)
        return n

    def plan(self, d: InstrumentDefinition, baseline: bool, items: bool, scores: bool
             ) -> _Plan:
        key = (d.code, d.version, baseline, items, scores)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _Plan(d, baseline, items, scores)
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
    merged in that order, a response before a missed assessment of the same place.

    A response's group: its subject's head, the ids of its records' middles (`_Plan.ids`)
    and its visit's tail; the responses of one assessment come together and share the time
    values (`_when`) and, per instrument version, the tail.
    """
    missed = iter(not_done)
    pending = next(missed, None)
    subject, seq, head_rank = None, 0, None
    head: tuple[Any, ...] = ()
    when: tuple[Any, ...] | None = None
    tails: dict[_Plan, tuple[Any, ...]] = {}
    event: cat.Event
    baseline, day, dtc = False, None, ""
    plans = middles.plans
    for row in chain(rows, (None,)):  # None: the end, after the last missed assessments
        while pending is not None and (row is None or (
                pending["subject_rank"], pending["sequence"]) < (
                row["subject_rank"], row["assessment_sequence"])):
            if pending["subject_rank"] != subject:
                subject, seq = pending["subject_rank"], 0
            group = not_done_group(catalogue, pending, middles)
            yield group[0], seq + 1, group[1], group[2]
            seq += len(group[1])
            pending = next(missed, None)
        if row is None:
            return
        rank = row["subject_rank"]
        if rank != subject:
            subject, seq = rank, 0
        if rank != head_rank:
            head_rank, head = rank, _head(catalogue, row["subject_key"])
        key = (row["assessment_code"], row["submitted_at"], row["timezone"],
               row.get("first_dose_local"))
        if key != when:  # the responses of one assessment come together
            when, tails = key, {}
            event, baseline, day, dtc = _when(catalogue, row)
        code, version = row["instrument_code"], row["instrument_version"]
        plan = plans.get((code, version, baseline, items, scores))
        if plan is None:
            plan = middles.plan(definitions(code, version), baseline, items, scores)
        tail = tails.get(plan)
        if tail is None:
            tail = tails[plan] = (float(event.visitnum), event.visit, event.visitdy, dtc, day,
                                  plan.evlint)
        ids = plan.ids(row, middles)
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
