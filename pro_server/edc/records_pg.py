"""The pull API's records built by PostgreSQL: each record's JSON text comes out of the query.

`records.record_text` builds a record's text in Python from a row: it formats five instants
into UTC and local time, `json.dumps` the dict and appends the texts stored with the version
(`ResponseExport`: its items, unanswered reasons and scores). At tens of thousands of records
that per-row work is most of an export's time, while the database does the same work in C
next to the data. On PostgreSQL the page query therefore returns, per version, its audit seq
and its finished JSON text, and Python only joins the texts. The text is concatenated
(json_build_object looks up each argument's type on every row): strings escaped by
`to_json`, the window bounds formatted with `AT TIME ZONE` and `to_char`, the version's own
instants and other stored texts appended as they are (a local time again formatted where the
assessment's time zone is no longer the one it was stored for). The text is `record_text`'s
(the test compares them).

The page query is one text for every page (the study, the cursor and the size are
parameters), so the export prepares it once per connection and executes it with a generic plan:
planning its large expression took a third as long as running it for 1000 records. What
repeats from version to version comes from lateral subqueries PostgreSQL memoizes, built once
per page for each: the assessment object (its window bounds are formatted per export) per
assessment, the subject key per participant, the site's code per site, the instrument,
language and scoring per instrument version (escaping them by `to_json` for each version,
which looks up the type's output function on every call, was a seventh of the database's
work). The literal text around those texts and the record's CASEs is written into them: a
record is a concat() of 28 arguments, not 39.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, bindparam, literal_column, select, true
from sqlalchemy.orm import aliased

from pro_server.changes.models import ChangeRequest
from pro_server.edc.records import stored_texts
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.responses.models import ResponseExport as ExportTexts
from pro_server.schedule.models import Assessment
from pro_server.staff.models import StaffUser
from pro_server.studies.models import Site

_UTC = "'UTC'"
# The ISO 8601 text with microseconds; `datetime.isoformat` leaves them out when they are 0
# (the only '.000000' such a text can hold: `_iso_text` takes it out).
ISO_US = "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"


def _iso_text(timestamp: str) -> str:
    """`datetime.isoformat` of a timestamp without time zone, without its offset."""
    return f"replace(to_char({timestamp}, {ISO_US}), '.000000', '')"


def utc_iso_sql(column: str) -> str:
    """The instant's ISO 8601 text in UTC with a Z (`export_text.utc_text`)."""
    return f"{_iso_text(f'({column} AT TIME ZONE {_UTC})')} || 'Z'"


def local_iso_sql(column: str, tz: str) -> str:
    """`utc_to_local(instant, tz).isoformat()`: wall time in `tz` and its UTC offset."""
    return local_iso_text(f"({column} AT TIME ZONE {tz})", f"({column} AT TIME ZONE {_UTC})")


def local_iso_text(local: str, utc: str) -> str:
    """`local_iso_sql` of an instant's wall times in its zone (`local`) and in UTC."""
    offset = (f"CASE WHEN {local} >= {utc} THEN '+' || to_char({local} - {utc}, 'HH24:MI') "
              f"ELSE '-' || to_char({utc} - {local}, 'HH24:MI') END")
    return f"{_iso_text(local)} || {offset}"


def stored_local_sql(name: str, tz: str) -> str:
    """The local text of the version's `<name>_at` in `tz`: the one stored with the version
    (`ResponseExport.<name>_local`) when it was made for `tz`, else formatted again."""
    return (f"CASE WHEN r.zone = {tz} THEN r.{name}_local "
            f"ELSE {local_iso_sql(f'r.{name}_at', tz)} END")


def late_seconds_sql(submitted: str, window_end: str) -> str:
    """Whole seconds submitted after the window closed, 0 when on time (`records.timing`)."""
    return f"greatest(0, trunc(extract(epoch FROM {submitted} - {window_end})))::bigint"


def requester_sql(email: str, role: str) -> str:
    """`records.requester`: 'email (role)' of the change request's author, or NULL."""
    return f"CASE WHEN {email} IS NULL THEN NULL ELSE {email} || ' (' || {role} || ')' END"


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _string(expr: str) -> str:
    """A text expression as a JSON string (escaped by to_json), 'null' when NULL."""
    return f"coalesce(to_json({expr}::text)::text, 'null')"


def _window(bound: str) -> str:
    """A window bound (it can move: formatted per export) as the record's instant object,
    from its wall times in UTC and in the assessment's zone (`w`: `page_query`'s)."""
    utc, local = f"w.{bound}_utc", f"w.{bound}_local"
    return (f"CASE WHEN {utc} IS NULL THEN 'null' ELSE '{{\"utc\": \"' || {_iso_text(utc)} || "
            f"'Z\", \"local\": \"' || {local_iso_text(local, utc)} || '\"}}' END")


class _Text(str):
    """Literal text of the record: `_concat` joins it with the literal text beside it."""


def _args(parts: list[str]) -> list[str]:
    """The parts as SQL, literal texts (`_Text`) beside each other as one SQL literal."""
    args, text = [], ""
    for part in parts:
        if isinstance(part, _Text):
            text += part
            continue
        if text:
            args.append(_lit(text))
            text = ""
        args.append(part)
    return [*args, _lit(text)] if text else args


def _concat(parts: list[str]) -> str:
    """One concat() of the parts (`_args`): each argument is one output function call and
    one copy (a `||` inside an argument is one more copy of all it joined)."""
    return "concat(" + ", ".join(_args(parts)) + ")"


def _stored_instant(name: str) -> list[str]:
    """The version's `<name>_at` as the record's instant object, from its stored texts."""
    return [_Text('{"utc": "'), f"r.{name}_utc", _Text('", "local": "'),
            stored_local_sql(name, "r.timezone"), _Text('"}')]


WINDOW_BOUNDS = ("window_start", "window_end")


class _Fold:
    """A part of the record that takes the literal text beside it into itself (`_fold`): the
    record's concat() has an argument (an output function call and a copy, per record) less
    for each."""

    def take(self, text: str, *, before: bool) -> None:
        raise NotImplementedError


class _Memo(_Fold):
    """A text built of `parts` in a memoized subquery (`page_query`: once per participant,
    assessment or instrument of a page), read by the record as `ref` (`<subquery>.<column>`)."""

    def __init__(self, ref: str, parts: list[str]) -> None:
        self.ref, self.parts = ref, parts

    def take(self, text: str, *, before: bool) -> None:
        self.parts = [_Text(text), *self.parts] if before else [*self.parts, _Text(text)]


class _Case(_Fold):
    """CASE WHEN `when` of two texts made of parts, joined by `||` (none of them NULL)."""

    def __init__(self, when: str, then: list[str], otherwise: list[str]) -> None:
        self.when, self.then, self.otherwise = when, then, otherwise

    def take(self, text: str, *, before: bool) -> None:
        for branch in (self.then, self.otherwise):
            branch.insert(0 if before else len(branch), _Text(text))

    def sql(self) -> str:
        return f"CASE WHEN {self.when} THEN {_joined(self.then)} ELSE {_joined(self.otherwise)} END"


def _joined(parts: list[str]) -> str:
    """The parts (`_args`) joined by `||`."""
    return " || ".join(f"({arg})" for arg in _args(parts))


def _fold(parts: list[Any]) -> list[Any]:
    """The parts, each literal text taken into the `_Fold` before it, else after it."""
    out: list[Any] = []
    pending = ""
    for part in parts:
        if isinstance(part, _Text):
            if out and isinstance(out[-1], _Fold):
                out[-1].take(part, before=False)
            else:
                pending += part
            continue
        if pending and isinstance(part, _Fold):
            part.take(pending, before=True)
        elif pending:
            out.append(_Text(pending))
        pending = ""
        out.append(part)
    return [*out, _Text(pending)] if pending else out


def record_sql(*, items: bool, scores: bool) -> tuple[str, dict[str, str]]:
    """`records.record_text` over the page subquery `r`, as one concat() (json_build_object
    looks up every argument's type per row), and the texts it reads from `page_query`'s
    memoized subqueries (their SQL by column): numbers as they are (their output function
    is their text), strings escaped by to_json (those of the subject, site, assessment,
    instrument and scoring in the memoized subqueries), objects of a fixed shape spelled
    out; the literal text beside a memoized text or a CASE is written into it (`_fold`)."""
    requester = requester_sql("r.requester_email", "r.requester_role")
    late = late_seconds_sql("r.submitted_at", "r.window_end")
    fields: list[tuple[str, list[Any]]] = [
        ("id", ["r.id"]),
        ("subject_key", [_Memo("r.subject_json", [_string("p.subject_key")])]),
        ("site", [_Memo("r.site_json", [_string("s.code")])]),
        ("assessment", [_Memo("r.assessment_json", [
            _Text('{"code": '), _string("w.code"), _Text(', "window_start": '),
            _window("window_start"), _Text(', "window_end": '), _window("window_end"),
            _Text(', "timezone": '), _string("w.timezone"), _Text("}")])]),
        ("instrument", [_Memo("ij.instrument_json", [  # and the language
            _Text('{"code": '), _string("r.instrument_code"), _Text(', "version": '),
            _string("r.instrument_version"), _Text('}, "language": '), _string("r.language")])]),
        ("version", ["r.version"]),
        ("replaces", [_Case("r.replaces_id IS NULL", [_Text("null")], [
            _Text('{"id": '), "r.replaces_id", _Text(', "version": '), "r.version - 1",
            _Text("}")])]),
        ("started_at", _stored_instant("started")),
        ("submitted_at", _stored_instant("submitted")),
        ("recorded_at", _stored_instant("recorded")),
        # lateness worked out (in numeric) only for a version a second or more late
        ("timing", [_Text("{"), _Case(
            "r.submitted_at >= r.window_end + interval '1 second'",
            [_Text('"status": "late", "late_by_seconds": '), late],
            [_Text('"status": "on_time", "late_by_seconds": 0')]), _Text("}")]),
        ("change", [_Case("r.replaces_id IS NULL", [_Text("null")], [
            _Text('{"reason": '), _string("r.change_reason"), _Text(', "source": '),
            _string("r.change_source"), _Text(', "by": '), _string("r.recorded_by"),
            _Text(', "requested_by": '), _string(requester), _Text("}")])]),
        ("scoring", [_Memo("ij.scoring_json", [
            _Text('{"algorithm": '), _string("r.algorithm"), _Text(', "algorithm_version": '),
            _string("r.algorithm_version"), _Text("}")])]),
    ]
    fields += [(key, [f"r.{column}"]) for key, column in stored_texts(items=items,
                                                                       scores=scores)]
    parts: list[Any] = [_Text("{")]
    for n, (key, value) in enumerate(fields):
        parts += [_Text((", " if n else "") + json.dumps(key) + ": "), *value]
    record, memos = [], {}
    for part in _fold([*parts, _Text("}")]):
        if isinstance(part, _Memo):
            memos[part.ref.split(".")[1]] = _concat(part.parts)
            part = part.ref
        record.append(part.sql() if isinstance(part, _Case) else part)
    return _concat(record), memos


# The version's stored texts a record reads (`texts_of` None: it has none, refused), and its
# instants, formatted again where its assessment's time zone is no longer `zone`.
RECORD_TEXTS = (ExportTexts.response_id.label("texts_of"), ExportTexts.items_json,
                ExportTexts.unanswered_json, ExportTexts.scores_json, ExportTexts.zone,
                ExportTexts.started_utc, ExportTexts.started_local, ExportTexts.submitted_utc,
                ExportTexts.submitted_local, ExportTexts.recorded_utc,
                ExportTexts.recorded_local, Response.started_at, Response.recorded_at)


def _memoized(columns: list[Any], *where: Any, name: str) -> Any:
    """A lateral subquery of `columns` (OFFSET 0 keeps it one): PostgreSQL memoizes it by the
    outer columns it reads, so its texts are built once per participant, assessment or
    instrument of a page, not per version. Its cache is made for as many keys as PostgreSQL
    expects and zeroed at every page: a subquery keyed on both the participant and the site
    (every pair expected) took longer to set up than a page's subject keys to escape."""
    return select(*columns).where(*where).offset(literal_column("0")).lateral(name)


def page_query(*, items: bool, scores: bool, limit: int) -> Select:
    """(audit_seq, instrument code and version, texts_of, record JSON text) of up to `limit`
    versions after seq `after` of study `study_id` (bound parameters of those names), in
    commit order; the record `record_sql`'s (`items`, `scores`: its scope). The page's rows
    (`r`: a LIMIT, which PostgreSQL keeps apart) carry what the record reads: the version's
    own columns and stored texts, and the texts that repeat from version to version (subject
    key, site, assessment object, instrument and language, scoring) from lateral subqueries
    PostgreSQL memoizes (`_memoized`). The rows are those of `records.versions_query` (the
    test compares the records with `record_text`'s of its rows).

    The limit is written in the text, not bound: a generic plan takes a bound LIMIT for a
    tenth of the rows it estimates, which on a large enough study would favour hash joins
    that read whole tables for every page; with the number the plan is made for `limit`
    rows, index lookups."""
    record, memos = record_sql(items=items, scores=scores)
    texts: dict[str, Any] = {name: literal_column(sql).label(name) for name, sql in memos.items()}
    p, s = aliased(Participant, name="p"), aliased(Site, name="s")
    a = aliased(Assessment, name="a")
    subject = _memoized([texts["subject_json"]],
                        p.id == Response.participant_id, name="pj")
    site = _memoized([texts["site_json"]], s.id == Response.site_id, name="sj")
    # The window bounds' wall times, worked out once each (`_window` reads them more than
    # once: a zone's rules are looked up by name on every call)
    zones = (("utc", _UTC), ("local", "a.timezone"))
    walls: list[Any] = [literal_column(f"timezone({zone}, a.{bound})").label(f"{bound}_{name}")
                        for bound in WINDOW_BOUNDS for name, zone in zones]
    window = (select(a.code, a.timezone, a.window_end, *walls)
              .where(a.id == Response.assessment_id).correlate(Response)
              .offset(literal_column("0")).lateral("w"))
    assessment = _memoized([texts["assessment_json"], window.c.timezone, window.c.window_end],
                           name="aj")
    r = (select(Response.id, Response.audit_seq, Response.version, Response.replaces_id,
                Response.instrument_code, Response.instrument_version,
                Response.submitted_at, Response.recorded_by, Response.change_reason,
                Response.change_source, subject.c.subject_json, site.c.site_json,
                assessment.c.assessment_json,
                assessment.c.timezone, assessment.c.window_end, Response.language,
                Response.algorithm, Response.algorithm_version,
                StaffUser.email.label("requester_email"),
                StaffUser.role.label("requester_role"),
                *RECORD_TEXTS)
         .select_from(Response)
         .join(subject, true()).join(site, true()).join(assessment, true())
         .outerjoin(ExportTexts, ExportTexts.response_id == Response.id)
         .outerjoin(ChangeRequest, ChangeRequest.new_response_id == Response.id)
         .outerjoin(StaffUser, StaffUser.id == ChangeRequest.requested_by_id)
         .where(Response.study_id == bindparam("study_id", type_=Integer),
                Response.audit_seq > bindparam("after", type_=BigInteger))
         .order_by(Response.audit_seq).limit(literal_column(str(int(limit)), Integer))
         .subquery("r"))
    # Over the page's rows, where PostgreSQL memoizes it by their five columns.
    instrument = _memoized([texts["instrument_json"], texts["scoring_json"]], name="ij")
    return (select(r.c.audit_seq, r.c.instrument_code, r.c.instrument_version, r.c.texts_of,
                   literal_column(record).label("record"))
            .select_from(r).join(instrument, true()).order_by(r.c.audit_seq))
