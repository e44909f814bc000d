"""ODM clinical data on PostgreSQL: each version's ItemGroupData come out of the query as XML text.

`odm.form_data` builds, per response version, three ItemGroupData (answers, scores, the
admin items) from the answers and scores it decodes from JSON text, and local times it
formats in Python. On PostgreSQL the rows carry that XML instead (`odm_groups`): the JSON
columns are read as jsonb once per row, and a per-instrument-version expression, generated
here from the definition (its items in order, multi-choice options as Y/N, score keys in
stored order), writes the same ItemData, with `TransactionType="Remove"` for what a
correction emptied. Python keeps the file's structure (subjects, events, FormData,
AuditRecord), so only its per-row work moves. The content equals `form_data`'s (the test
compares the files canonicalised).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import cast

from pro_server.edc import catalogue as cat
from pro_server.edc.odm import PARTICIPANT_USER
from pro_server.edc.records import Previous
from pro_server.edc.records_pg import DAY_TIME, fraction_sql, late_seconds_sql, local_iso_sql
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.responses.models import Response

# The JSON columns the Python builder decodes; here read as jsonb under these names instead.
_JSON = {"answers": ("odm_answers", Response.answers),
         "scores": ("odm_scores", Response.scores),
         "prev_answers": ("odm_prev_answers", Previous.answers),
         "prev_scores": ("odm_prev_scores", Previous.scores)}

# What `odm.subject_data` and `odm.form_data` read of a row whose ItemGroupData are built:
# the other columns are read inside the query only (fewer values, datetimes above all, to
# convert per row).
ROW_KEYS = frozenset({
    "subject_rank", "subject_key", "site_code", "assessment_code", "instrument_code",
    "instrument_version", "version", "recorded_by", "recorded_at", "change_reason",
    "change_source", "audit_seq", "requester_email", "requester_role"})


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _xml_attr(text: str) -> str:
    """Text escaped for an XML attribute value (as lxml writes it)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


def escape_sql(expr: str) -> str:
    """SQL of `_xml_attr` over a text expression."""
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        expr = f"replace({expr}, {_lit(raw)}, {_lit(escaped)})"
    return expr


def escape_text_sql(expr: str) -> str:
    """SQL of XML text escaping (as lxml writes element text)."""
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        expr = f"replace({expr}, {_lit(raw)}, {_lit(escaped)})"
    return expr


def _value_leaf(oid: str, value_sql: str) -> str:
    return f"'<ItemData ItemOID=\"{_xml_attr(oid)}\" Value=\"' || {value_sql} || '\"/>'"


def _remove_leaf(oid: str) -> str:
    return _lit(f'<ItemData ItemOID="{_xml_attr(oid)}" TransactionType="Remove"/>')


def _present(value: str) -> str:
    """A jsonb value that is there and not JSON null (`value is not None`)."""
    return f"coalesce(jsonb_typeof({value}), 'null') <> 'null'"


def _group(oid: str, parts: Iterable[str]) -> str:
    """An ItemGroupData around the ItemData texts, NULL when there are none."""
    body = ", ".join(parts) or "''"
    return (f"'<ItemGroupData ItemGroupOID=\"{_xml_attr(oid)}\">' || "
            f"nullif(concat({body}), '') || '</ItemGroupData>'")


def _answer_parts(d: InstrumentDefinition, answers: str) -> list[str]:
    """`odm.item_data_values` of the jsonb `answers`, one SQL text per ItemData (NULL: none)."""
    parts = []
    for item in d.items:
        value = f"({answers} -> {_lit(item.id)} -> 'value')"
        if item.type == cat.MULTI:
            leaves = [_value_leaf(cat.item_oid(d.code, item.id, str(o.code)),
                                  f"CASE WHEN jsonb_exists({value}, {_lit(str(o.code))}) "
                                  f"THEN '{cat.CHECKED}' ELSE '{cat.NOT_CHECKED}' END")
                      for o in item.options]
            parts.append(f"CASE WHEN {_present(value)} THEN concat({', '.join(leaves)}) END")
        else:
            leaf = _value_leaf(cat.item_oid(d.code, item.id), escape_sql(f"({value} #>> '{{}}')"))
            parts.append(f"CASE WHEN {_present(value)} THEN {leaf} END")
    return parts


def _removed_answer_parts(d: InstrumentDefinition, answers: str, before: str) -> list[str]:
    """The items a correction emptied: answered before, not now."""
    parts = []
    for item in d.items:
        now = f"({answers} -> {_lit(item.id)} -> 'value')"
        then = f"({before} -> {_lit(item.id)} -> 'value')"
        oids = ([cat.item_oid(d.code, item.id, str(o.code)) for o in item.options]
                if item.type == cat.MULTI else [cat.item_oid(d.code, item.id)])
        removes = " || ".join(_remove_leaf(oid) for oid in oids)
        parts.append(f"CASE WHEN {_present(then)} AND NOT {_present(now)} THEN {removes} END")
    return parts


def _score_keys(d: InstrumentDefinition) -> list[str]:
    return sorted(s.key for s in d.scores)  # the stored order (sort_keys)


def _score_parts(d: InstrumentDefinition, scores: str) -> list[str]:
    parts = []
    for key in _score_keys(d):
        text = f"({scores} -> 'scores' -> {_lit(key)} -> 'value_text')"
        leaf = _value_leaf(cat.score_oid(d.code, key), escape_sql(f"({text} #>> '{{}}')"))
        parts.append(f"CASE WHEN {_present(text)} THEN {leaf} END")
    return parts


def _removed_score_parts(d: InstrumentDefinition, scores: str, before: str) -> list[str]:
    parts = []
    for key in _score_keys(d):
        now = f"({scores} -> 'scores' -> {_lit(key)} -> 'value_text')"
        then = f"({before} -> 'scores' -> {_lit(key)} -> 'value_text')"
        parts.append(f"CASE WHEN {_present(then)} AND NOT {_present(now)} "
                     f"THEN {_remove_leaf(cat.score_oid(d.code, key))} END")
    return parts


def _admin_parts(d: InstrumentDefinition) -> list[str]:
    """`odm.admin_values`: versions, language, local start and submit times, timing."""
    late = late_seconds_sql("r.submitted_at", "r.window_end")
    values = {
        "INSTRUMENT_VERSION": escape_sql("r.instrument_version"),
        "ALGORITHM": escape_sql("r.algorithm"),
        "ALGORITHM_VERSION": escape_sql("r.algorithm_version"),
        "LANGUAGE": escape_sql("r.language"),
        "STARTED": local_iso_sql("r.started_at", "r.timezone"),
        "SUBMITTED": local_iso_sql("r.submitted_at", "r.timezone"),
        "RESPONSE_VERSION": "r.version::text",
        "TIMING": f"CASE WHEN {late} > 0 THEN 'late' ELSE 'on_time' END",
    }
    return [_value_leaf(cat.admin_oid(d.code, k), v) for k, v in values.items()]


def form_groups_sql(d: InstrumentDefinition, *, transactional: bool, items: bool,
                    scores: bool) -> str:
    """The ItemGroupData of one version of `d`, as `odm.form_data` writes them."""
    a, s = "r.odm_answers", "r.odm_scores"
    pa, ps = "r.odm_prev_answers", "r.odm_prev_scores"
    update = "r.version > 1"
    answer_parts = _answer_parts(d, a) if items else []
    score_parts = _score_parts(d, s) if scores else []
    if transactional and items:
        answer_parts += [f"CASE WHEN {update} THEN concat("
                         f"{', '.join(_removed_answer_parts(d, a, pa))}) END"]
    if transactional and scores:
        score_parts += [f"CASE WHEN {update} THEN concat("
                        f"{', '.join(_removed_score_parts(d, s, ps))}) END"]
    groups = [_group(cat.item_group_oid(d.code), answer_parts) if answer_parts else None,
              _group(cat.item_group_oid(d.code, "SCORES"), score_parts)
              if score_parts else None,
              _group(cat.item_group_oid(d.code, "ADMIN"), _admin_parts(d))]
    return f"concat({', '.join(g for g in groups if g)})"


def groups_sql(definitions: Iterable[InstrumentDefinition], *, transactional: bool,
               items: bool, scores: bool) -> str:
    """`odm_groups` of a row of any of the definitions (by instrument code and version)."""
    branches = " ".join(
        f"WHEN r.instrument_code = {_lit(d.code)} AND r.instrument_version = {_lit(d.version)} "
        f"THEN {form_groups_sql(d, transactional=transactional, items=items, scores=scores)}"
        for d in definitions)
    return f"CASE {branches} END"


def audit_record_sql() -> str:
    """The AuditRecord `odm.form_data` writes in a Transactional file: the user (`odm.user_oid`),
    the site, when (UTC), why (a correction) and the audit seq."""
    user = ("CASE WHEN r.recorded_by = 'participant' THEN " + _lit(PARTICIPANT_USER) +
            " ELSE 'USR.' || upper(btrim(regexp_replace(r.recorded_by, '[^A-Za-z0-9]+', '_', "
            "'g'), '_')) END")
    utc = "(r.recorded_at AT TIME ZONE 'UTC')"
    stamp = f"to_char({utc}, {DAY_TIME}) || {fraction_sql(utc)} || '+00:00'"
    reason = (f"CASE WHEN r.version > 1 THEN '<ReasonForChange>' || "
              f"coalesce({escape_text_sql('r.change_reason')}, '') || '</ReasonForChange>' END")
    return (f"concat('<AuditRecord><UserRef UserOID=\"', {user}, '\"/><LocationRef LocationOID="
            f"\"LOC.', {escape_sql('r.site_code')}, '\"/><DateTimeStamp>', {stamp}, "
            f"'</DateTimeStamp>', {reason}, '<SourceID>audit-seq:', r.audit_seq, "
            "'</SourceID></AuditRecord>')")


def with_groups(query: Select, groups: str, order: list[str], *, audit: bool = False
                ) -> Select:
    """The export query (`records.versions_query` or `current_query`) with `odm_groups`
    (`groups`: from `groups_sql`) in place of the JSON columns, in the same order (`order`:
    its ordering columns' names; `audit`: with the AuditRecord, `odm_audit`)."""
    kept = [c for c in query.selected_columns if c.key not in _JSON]
    # Read as jsonb once per row: OFFSET 0 keeps the subquery from being flattened into the
    # outer query, where each of the many references would parse the text again.
    inner = (query.with_only_columns(
        *kept, *[cast(column, JSONB).label(name) for name, column in _JSON.values()],
        maintain_column_froms=False).offset(0).subquery("r"))
    return (select(*[c for c in inner.c if c.key in ROW_KEYS],
                   literal_column(groups).label("odm_groups"),
                   *([literal_column(audit_record_sql()).label("odm_audit")] if audit else []))
            .select_from(inner).order_by(*[inner.c[name] for name in order]))
