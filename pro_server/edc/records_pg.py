"""The pull API's records built by PostgreSQL: each record's JSON text comes out of the query.

`records.to_record` builds a record in Python from a row: it decodes the answers and scores
text columns, formats five instants into UTC and local time, and `json.dumps` the dict. At
tens of thousands of records that per-row work is most of an export's time, while the
database does the same work in C next to the data. On PostgreSQL the page query therefore
returns, per version, its audit seq and its finished JSON text (`json_build_object`, the
JSON columns read as `jsonb`, instants formatted with `AT TIME ZONE` and `to_char`), and
Python only joins the texts. The record has the same content as `to_record`'s (the test
compares them parsed); the JSON text differs in spacing and in the order of the keys of
`items` and `scores` (jsonb's).

What `to_record` takes from the instrument definition (which unanswered item applies) is
passed in as a parameter: per instrument version, its items in order with their
`enable_when` condition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import Select, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import cast
from sqlalchemy.types import Text

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


# `records.item_values`, in jsonb's key order (an ordered aggregate would sort per row).
_ITEMS = ("(SELECT coalesce(json_object_agg(e.key, e.value -> 'value'), '{}'::json) "
          "FROM jsonb_each(r.answers_jsonb) AS e)")

# `records.unanswered`: the definition's items without a value, in definition order, and
# whether their enable_when condition (a multi-choice answer containing a code) was met.
_UNANSWERED = (
    "(SELECT coalesce(json_object_agg(d.item ->> 0, CASE WHEN d.item ->> 1 IS NULL OR "
    "(jsonb_typeof(r.answers_jsonb -> (d.item ->> 1) -> 'value') = 'array' AND "
    "jsonb_exists(r.answers_jsonb -> (d.item ->> 1) -> 'value', d.item ->> 2)) "
    "THEN 'not_answered' ELSE 'not_applicable' END), '{}'::json) "
    "FROM jsonb_array_elements(defs.items) AS d(item) "
    "WHERE coalesce(r.answers_jsonb -> (d.item ->> 0) -> 'value', 'null'::jsonb) = 'null'::jsonb)")

_SCORES = ("(SELECT coalesce(json_object_agg(e.key, json_build_object("
           "'value', e.value -> 'value', 'value_text', e.value -> 'value_text', "
           "'reason', e.value -> 'reason')), '{}'::json) "
           "FROM jsonb_each(r.scores_jsonb -> 'scores') AS e)")


def record_sql(*, items: bool, scores: bool) -> str:
    """The JSON text of `records.to_record` over the page subquery `r` and its definition `defs`."""
    late = late_seconds_sql("r.submitted_at", "r.window_end")
    parts = [
        "'id', r.id", "'subject_key', r.subject_key", "'site', r.site_code",
        "'assessment', json_build_object('code', r.assessment_code, "
        f"'window_start', {instant_sql('r.window_start', 'r.timezone')}, "
        f"'window_end', {instant_sql('r.window_end', 'r.timezone')}, 'timezone', r.timezone)",
        "'instrument', json_build_object('code', r.instrument_code, "
        "'version', r.instrument_version)",
        "'language', r.language", "'version', r.version",
        "'replaces', CASE WHEN r.replaces_id IS NULL THEN NULL ELSE "
        "json_build_object('id', r.replaces_id, 'version', r.version - 1) END",
        f"'started_at', {instant_sql('r.started_at', 'r.timezone')}",
        f"'submitted_at', {instant_sql('r.submitted_at', 'r.timezone')}",
        f"'recorded_at', {instant_sql('r.recorded_at', 'r.timezone')}",
        f"'timing', json_build_object('status', CASE WHEN {late} > 0 THEN 'late' "
        f"ELSE 'on_time' END, 'late_by_seconds', {late})",
        "'change', CASE WHEN r.replaces_id IS NULL THEN NULL ELSE json_build_object("
        "'reason', r.change_reason, 'source', r.change_source, 'by', r.recorded_by, "
        f"'requested_by', {requester_sql('r.requester_email', 'r.requester_role')}) END",
        "'scoring', json_build_object('algorithm', r.algorithm, "
        "'algorithm_version', r.algorithm_version)",
    ]
    if items:
        parts += [f"'items', {_ITEMS}", f"'unanswered', {_UNANSWERED}"]
    if scores:
        parts.append(f"'scores', {_SCORES}")
    return f"json_build_object({', '.join(parts)})::text"


def definitions_json(definitions: Iterable[InstrumentDefinition]) -> str:
    """{"code/version": [[item id, enable_when item, enable_when code], ...]}: what the query
    needs of each definition to say why an item has no answer."""
    return json.dumps({
        f"{d.code}/{d.version}": [
            [i.id, i.enable_when.item if i.enable_when else None,
             i.enable_when.contains if i.enable_when else None] for i in d.items]
        for d in definitions}, sort_keys=True)


@lru_cache(maxsize=4)
def _record_column(items: bool, scores: bool) -> str:
    return record_sql(items=items, scores=scores)


def page_query(study_id: int, after: int, limit: int, definitions: str, *, items: bool,
               scores: bool) -> Select:
    """(audit_seq, record JSON text) of up to `limit` versions after seq `after`, in commit
    order; `definitions` from `definitions_json`."""
    # The JSON columns are read as jsonb once per row in the (limited, so not flattened) page
    # subquery: the record's expressions refer to them many times.
    r = (versions_query(study_id, after, limit=limit, full=False)
         .add_columns(cast(Response.answers, JSONB).label("answers_jsonb"),
                      cast(Response.scores, JSONB).label("scores_jsonb"))
         .subquery("r"))
    defs = (select(literal_column("key").label("key"), literal_column("value").label("items"))
            .select_from(func.jsonb_each(cast(bindparam("definitions", definitions,
                                                        type_=Text), JSONB)))
            .cte("defs").prefix_with("MATERIALIZED", dialect="postgresql"))
    return (select(r.c.audit_seq, literal_column(_record_column(items, scores)).label("record"))
            .select_from(r)
            .outerjoin(defs, defs.c.key == r.c.instrument_code + "/" + r.c.instrument_version)
            .order_by(r.c.audit_seq))
