"""ODM clinical data on PostgreSQL: each version's stored ItemGroupData come out of the query
joined as XML text.

`odm.form_data` writes, per response version, three ItemGroupData: the answers and the
scores, stored with the version as XML text when it was stored (`ResponseExport`, with a
correction's removals for Transactional files), and the admin items (versions, language,
local start and submit times, timing: these depend on the assessment, which can change), and
in a Transactional file the AuditRecord. On PostgreSQL the rows carry the stored texts joined
(`odm_groups`) and, of the admin items, only what depends on the assessment (`admin_sql`:
local times, timing). The rest repeats from version to version (the same instrument,
versions, language, user, site): Python keeps it as bytes and writes it around the values
of the row (`odm.form_data`), which costs less than the database formatting and escaping it
for each version did. Python keeps the file's structure (subjects, events, FormData). The
content equals `form_data`'s from the Python rows (the test compares the files
canonicalised).
"""

from __future__ import annotations

from sqlalchemy import Select, literal_column, select

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
# convert per row, and narrower rows for a Snapshot's sort).
ROW_KEYS = frozenset({
    "subject_rank", "subject_key", "site_code", "assessment_code", "instrument_code",
    "instrument_version", "algorithm", "algorithm_version", "language", "version",
    "audit_seq", "texts_of"})
# and in a Transactional file, for the AuditRecord and a correction's Annotation
TRANSACTION_KEYS = frozenset({"recorded_by", "recorded_utc", "change_reason", "change_source",
                              "requester_email", "requester_role"})


def admin_sql() -> dict[str, str]:
    """What `odm.admin_values` reads of a version that depends on its assessment (which can
    change): the local start and submit times, and whether it was late. The rest of the admin
    ItemGroupData repeats from version to version: `odm.form_data` writes it (its bytes kept
    per instrument, versions and language). Formatted and escaped by the database for each
    version, it was a third of the database's work."""
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


def with_groups(query: Select, order: list[str], *, transactional: bool, items: bool,
                scores: bool) -> Select:
    """The export query (`records.versions_query` or `current_query`) with `odm_groups` and
    the `admin_sql` columns in place of the JSON columns (and, in a Transactional file, what
    `odm.audit_record` reads besides), in the same order (`order`: its ordering columns'
    names). The query's rows are ordered first, without the stored texts (`TEXTS`: a
    kilobyte a version, which a Snapshot's sort would carry), then joined with them (`r`);
    OFFSET 0 keeps PostgreSQL from merging these subqueries into the outer query (which
    would sort them all)."""
    kept = [c for c in query.selected_columns if c.key not in _UNREAD]
    inner = query.with_only_columns(*kept, maintain_column_froms=False).offset(0).subquery("v")
    rows = (select(*inner.c, *TEXTS)
            .select_from(inner.outerjoin(ExportTexts, ExportTexts.response_id == inner.c.id))
            .order_by(*[inner.c[name] for name in order]).offset(0).subquery("r"))
    groups = groups_sql(transactional=transactional, items=items, scores=scores)
    keys = ROW_KEYS | TRANSACTION_KEYS if transactional else ROW_KEYS
    return (select(*[c for c in rows.c if c.key in keys],
                   literal_column(groups).label("odm_groups"),
                   *[literal_column(sql).label(name) for name, sql in admin_sql().items()])
            .select_from(rows).order_by(*[rows.c[name] for name in order]))
