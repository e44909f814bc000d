"""ODM clinical data on PostgreSQL: each version's stored ItemGroupData and its AuditRecord come
out of the query as XML text.

`odm.form_data` writes, per response version, three ItemGroupData: the answers and the
scores, stored with the version as XML text when it was stored (`ResponseExport`, with a
correction's removals for Transactional files), and the admin items (versions, language,
local start and submit times, timing: these depend on the assessment, which can change), and
in a Transactional file the AuditRecord. On PostgreSQL the rows carry the stored texts joined
(`odm_groups`) and the AuditRecord formatted by the database next to the data (`odm_audit`);
of the admin items only what depends on the assessment (`admin_sql`: local times, timing),
the rest repeats and Python keeps it as bytes. Python keeps the file's structure (subjects,
events, FormData), so only its per-row work moves. The content equals `form_data`'s (the test
compares the files canonicalised).
"""

from __future__ import annotations

from sqlalchemy import Select, literal_column, select

from pro_server.edc.odm import PARTICIPANT_USER
from pro_server.edc.records_pg import late_seconds_sql, stored_local_sql
from pro_server.responses.models import ResponseExport as ExportTexts

# The stored texts `odm.form_data` writes (`records.with_texts` adds them to the query).
TEXTS = (ExportTexts.response_id.label("texts_of"), ExportTexts.odm_items,
         ExportTexts.odm_scores, ExportTexts.odm_items_update, ExportTexts.odm_scores_update,
         ExportTexts.zone, ExportTexts.started_local, ExportTexts.submitted_local,
         ExportTexts.recorded_utc)

# The JSON columns of the export query that the ODM file does not read.
_UNREAD = frozenset({"answers", "scores", "prev_answers", "prev_scores"})

# What `odm.subject_data` and `odm.form_data` read of a row whose ItemGroupData are built:
# the other columns are read inside the query only (fewer values, datetimes above all, to
# convert per row).
ROW_KEYS = frozenset({
    "subject_rank", "subject_key", "site_code", "assessment_code", "instrument_code",
    "instrument_version", "algorithm", "algorithm_version", "language", "version",
    "recorded_by", "change_source", "audit_seq", "requester_email", "requester_role",
    "texts_of"})


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def escape_sql(expr: str) -> str:
    """SQL of XML attribute escaping over a text expression (as lxml writes attributes)."""
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        expr = f"replace({expr}, {_lit(raw)}, {_lit(escaped)})"
    return expr


def escape_text_sql(expr: str) -> str:
    """SQL of XML text escaping (as lxml writes element text)."""
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        expr = f"replace({expr}, {_lit(raw)}, {_lit(escaped)})"
    return expr


def admin_sql() -> dict[str, str]:
    """What `odm.admin_values` reads of a version that depends on its assessment (which can
    change): the local start and submit times, and whether it was late. The rest of the admin
    ItemGroupData repeats from version to version: `odm.form_data` writes it (its bytes kept
    per instrument, versions and language), formatted by the database at 5 us a version it
    was most of the database's work."""
    late = late_seconds_sql("r.submitted_at", "r.window_end")
    return {"admin_started": stored_local_sql("started", "r.timezone"),
            "admin_submitted": stored_local_sql("submitted", "r.timezone"),
            "admin_late": f"{late} > 0"}


def groups_sql(*, transactional: bool, items: bool, scores: bool) -> str:
    """`odm_groups`: a version's answers and scores ItemGroupData as `odm.form_data` writes
    them (a correction's stored removals in a Transactional file)."""
    parts = [("coalesce(r.odm_{0}_update, r.odm_{0})" if transactional else "r.odm_{0}")
             .format(name) for name, wanted in (("items", items), ("scores", scores)) if wanted]
    return f"concat({', '.join(parts)})" if parts else "''"


def audit_record_sql() -> str:
    """The AuditRecord `odm.form_data` writes in a Transactional file: the user (`odm.user_oid`),
    the site, when (UTC), why (a correction) and the audit seq."""
    user = ("CASE WHEN r.recorded_by = 'participant' THEN " + _lit(PARTICIPANT_USER) +
            " ELSE 'USR.' || upper(btrim(regexp_replace(r.recorded_by, '[^A-Za-z0-9]+', '_', "
            "'g'), '_')) END")
    stamp = "left(r.recorded_utc, -1) || '+00:00'"  # its stored UTC text, Z as +00:00
    reason = (f"CASE WHEN r.version > 1 THEN '<ReasonForChange>' || "
              f"coalesce({escape_text_sql('r.change_reason')}, '') || '</ReasonForChange>' END")
    return (f"concat('<AuditRecord><UserRef UserOID=\"', {user}, '\"/><LocationRef LocationOID="
            f"\"LOC.', {escape_sql('r.site_code')}, '\"/><DateTimeStamp>', {stamp}, "
            f"'</DateTimeStamp>', {reason}, '<SourceID>audit-seq:', r.audit_seq, "
            "'</SourceID></AuditRecord>')")


def with_groups(query: Select, order: list[str], *, transactional: bool, items: bool,
                scores: bool) -> Select:
    """The export query (`records.versions_query` or `current_query`) with `odm_groups` and
    the `admin_sql` columns in place of the JSON columns and, in a Transactional file,
    `odm_audit`, in the same order (`order`: its ordering columns' names). The query's rows
    are ordered first, without the stored texts (`TEXTS`: a kilobyte a version, which a
    Snapshot's sort would carry), then joined with them (`r`); OFFSET 0 keeps PostgreSQL from
    merging these subqueries into the outer query (which would sort them all)."""
    kept = [c for c in query.selected_columns if c.key not in _UNREAD]
    inner = query.with_only_columns(*kept, maintain_column_froms=False).offset(0).subquery("v")
    rows = (select(*inner.c, *TEXTS)
            .select_from(inner.outerjoin(ExportTexts, ExportTexts.response_id == inner.c.id))
            .order_by(*[inner.c[name] for name in order]).offset(0).subquery("r"))
    groups = groups_sql(transactional=transactional, items=items, scores=scores)
    return (select(*[c for c in rows.c if c.key in ROW_KEYS],
                   literal_column(groups).label("odm_groups"),
                   *[literal_column(sql).label(name) for name, sql in admin_sql().items()],
                   *([literal_column(audit_record_sql()).label("odm_audit")]
                     if transactional else []))
            .select_from(rows).order_by(*[rows.c[name] for name in order]))
