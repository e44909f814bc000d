"""The pull API's records built by PostgreSQL: each record's JSON text comes out of the query.

`records.to_record` builds a record in Python from a row: it decodes the answers and scores
text columns, formats five instants into UTC and local time, and `json.dumps` the dict. At
tens of thousands of records that per-row work is most of an export's time, while the
database does the same work in C next to the data. On PostgreSQL the page query therefore
returns, per version, its audit seq and its finished JSON text, and Python only joins the
texts. The text is concatenated (json_build_object looks up each argument's type on every
row; an aggregate over jsonb_each is a subplan per row): the JSON columns are read as jsonb
once per row, strings escaped by `to_json`, instants formatted with `AT TIME ZONE` and
`to_char`, and what `to_record` takes from the instrument definition (its items, which
unanswered item applies, its score keys) is one expression per instrument version,
generated here. The record has the same content as `to_record`'s (the test compares them
parsed); the JSON text differs only in the order of `items` (the definition's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import cast

from pro_server.edc.records import versions_query
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.responses.models import Response

DAY_TIME = "'YYYY-MM-DD\"T\"HH24:MI:SS'"


def fraction_sql(utc: str) -> str:
    """'.ffffff' when the instant has microseconds, as `datetime.isoformat` writes it."""
    return f"CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END"


def utc_iso_sql(column: str) -> str:
    """The instant's ISO 8601 text in UTC with a Z (`records.instant`'s "utc")."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return f"to_char({utc}, {DAY_TIME}) || {fraction_sql(utc)} || 'Z'"


def local_iso_sql(column: str, tz: str) -> str:
    """`utc_to_local(instant, tz).isoformat()`: wall time in `tz` and its UTC offset."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    local = f"({column} AT TIME ZONE {tz})"
    offset = (f"CASE WHEN {local} >= {utc} THEN '+' || to_char({local} - {utc}, 'HH24:MI') "
              f"ELSE '-' || to_char({utc} - {local}, 'HH24:MI') END")
    return f"to_char({local}, {DAY_TIME}) || {fraction_sql(utc)} || {offset}"


def instant_sql(column: str, tz: str) -> str:
    """SQL of `records.instant`: {"utc": "...Z", "local": "...+hh:mm"} or NULL."""
    return (f"CASE WHEN {column} IS NULL THEN NULL ELSE json_build_object("
            f"'utc', {utc_iso_sql(column)}, 'local', {local_iso_sql(column, tz)}) END")


def late_seconds_sql(submitted: str, window_end: str) -> str:
    """Whole seconds submitted after the window closed, 0 when on time (`records.timing`)."""
    return f"greatest(0, trunc(extract(epoch FROM {submitted} - {window_end})))::bigint"


def requester_sql(email: str, role: str) -> str:
    """`records.requester`: 'email (role)' of the change request's author, or NULL."""
    return f"CASE WHEN {email} IS NULL THEN NULL ELSE {email} || ' (' || {role} || ')' END"


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _key(name: str) -> str:
    """A JSON object key and its colon, as a SQL literal."""
    return _lit(json.dumps(name) + ": ")


def _string(expr: str) -> str:
    """A text expression as a JSON string (escaped by to_json), 'null' when NULL."""
    return f"coalesce(to_json({expr}::text)::text, 'null')"


def _value(expr: str) -> str:
    """A jsonb expression as JSON text, 'null' when absent."""
    return f"coalesce(({expr})::text, 'null')"


def _present(value: str) -> str:
    """A jsonb value that is there and not JSON null (`value is not None`)."""
    return f"coalesce(jsonb_typeof({value}), 'null') <> 'null'"


def _object(parts: Iterable[str]) -> str:
    """A JSON object of the parts that are not NULL (each `"key": value`)."""
    return f"'{{' || concat_ws(', ', {', '.join(parts)}) || '}}'"


def _instant(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL THEN 'null' ELSE "
            f"'{{\"utc\": \"' || {utc_iso_sql(column)} || '\", \"local\": \"' || "
            f"{local_iso_sql(column, 'r.timezone')} || '\"}}' END")


def _items_sql(d: InstrumentDefinition) -> str:
    """`records.item_values` of the answers (r.answers_jsonb) to the definition's items."""
    a = "r.answers_jsonb"
    parts = []
    for i in d.items:
        value = _value(f"{a} -> {_lit(i.id)} -> 'value'")
        parts.append(f"CASE WHEN jsonb_exists({a}, {_lit(i.id)}) THEN {_key(i.id)} || {value} END")
    return _object(parts) if parts else "'{}'"


def _unanswered_sql(d: InstrumentDefinition) -> str:
    """`records.unanswered`: why each item without a value has none (its enable_when)."""
    a = "r.answers_jsonb"
    parts = []
    for i in d.items:
        value = f"({a} -> {_lit(i.id)} -> 'value')"
        if i.enable_when is None:
            why = "'not_answered'"
        else:
            trigger = f"({a} -> {_lit(i.enable_when.item)} -> 'value')"
            why = (f"CASE WHEN jsonb_typeof({trigger}) = 'array' AND jsonb_exists({trigger}, "
                   f"{_lit(i.enable_when.contains)}) THEN 'not_answered' "
                   "ELSE 'not_applicable' END")
        parts.append(f"CASE WHEN NOT {_present(value)} THEN {_key(i.id)} || '\"' || {why} "
                     "|| '\"' END")
    return _object(parts) if parts else "'{}'"


def _scores_sql(d: InstrumentDefinition) -> str:
    """`records.score_values`: value, value_text and reason of each stored score."""
    s = "r.scores_jsonb -> 'scores'"
    parts = []
    for key in sorted(score.key for score in d.scores):
        x = f"({s} -> {_lit(key)})"
        value, text, reason = (_value(f"{x} -> '{name}'")
                               for name in ("value", "value_text", "reason"))
        parts.append(
            f"CASE WHEN jsonb_exists({s}, {_lit(key)}) THEN {_key(key)} || "
            f"'{{\"value\": ' || {value} || ', \"value_text\": ' || {text} || "
            f"', \"reason\": ' || {reason} || '}}' END")
    return _object(parts) if parts else "'{}'"


def _by_definition(definitions: Iterable[InstrumentDefinition], build: Any) -> str:
    branches = " ".join(
        f"WHEN r.instrument_code = {_lit(d.code)} AND r.instrument_version = {_lit(d.version)} "
        f"THEN {build(d)}" for d in definitions)
    return f"CASE {branches} ELSE 'null' END"


def record_sql(definitions: Iterable[InstrumentDefinition], *, items: bool,
               scores: bool) -> str:
    """The JSON text of `records.to_record` over the page subquery `r`, by concatenation
    (json_build_object looks up every argument's type per row)."""
    definitions = list(definitions)
    late = late_seconds_sql("r.submitted_at", "r.window_end")
    requester = requester_sql("r.requester_email", "r.requester_role")
    fields = [
        ("id", "r.id::text"), ("subject_key", _string("r.subject_key")),
        ("site", _string("r.site_code")),
        ("assessment", "'{\"code\": ' || " + _string("r.assessment_code") +
         " || ', \"window_start\": ' || " + _instant("r.window_start") +
         " || ', \"window_end\": ' || " + _instant("r.window_end") +
         " || ', \"timezone\": ' || " + _string("r.timezone") + " || '}'"),
        ("instrument", "'{\"code\": ' || " + _string("r.instrument_code") +
         " || ', \"version\": ' || " + _string("r.instrument_version") + " || '}'"),
        ("language", _string("r.language")), ("version", "r.version::text"),
        ("replaces", "CASE WHEN r.replaces_id IS NULL THEN 'null' ELSE '{\"id\": ' || "
                     "r.replaces_id || ', \"version\": ' || (r.version - 1) || '}' END"),
        ("started_at", _instant("r.started_at")),
        ("submitted_at", _instant("r.submitted_at")),
        ("recorded_at", _instant("r.recorded_at")),
        ("timing", f"'{{\"status\": \"' || CASE WHEN {late} > 0 THEN 'late' ELSE 'on_time' "
                   f"END || '\", \"late_by_seconds\": ' || {late} || '}}'"),
        ("change", "CASE WHEN r.replaces_id IS NULL THEN 'null' ELSE '{\"reason\": ' || "
                   + _string("r.change_reason") + " || ', \"source\": ' || "
                   + _string("r.change_source") + " || ', \"by\": ' || "
                   + _string("r.recorded_by") + " || ', \"requested_by\": ' || "
                   + _string(requester) + " || '}' END"),
        ("scoring", "'{\"algorithm\": ' || " + _string("r.algorithm") +
         " || ', \"algorithm_version\": ' || " + _string("r.algorithm_version") + " || '}'"),
    ]
    if items:
        fields += [("items", _by_definition(definitions, _items_sql)),
                   ("unanswered", _by_definition(definitions, _unanswered_sql))]
    if scores:
        fields.append(("scores", _by_definition(definitions, _scores_sql)))
    return "concat('{', " + ", ', ', ".join(f"{_key(k)}, {v}" for k, v in fields) + ", '}')"


def page_query(study_id: int, after: int, limit: int, record: str) -> Select:
    """(audit_seq, record JSON text) of up to `limit` versions after seq `after`, in commit
    order; `record` from `record_sql`."""
    # The JSON columns are read as jsonb once per row in the (limited, so not flattened) page
    # subquery: the record's expressions refer to them many times.
    r = (versions_query(study_id, after, limit=limit, full=False)
         .add_columns(cast(Response.answers, JSONB).label("answers_jsonb"),
                      cast(Response.scores, JSONB).label("scores_jsonb"))
         .subquery("r"))
    return (select(r.c.audit_seq, literal_column(record).label("record"))
            .select_from(r).order_by(r.c.audit_seq))
