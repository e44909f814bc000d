"""A records page is one index range of its study, in commit order (issue 20, item 3).

Before, the page query had an index on `study_id` and one on `audit_seq`: the database either
fetched the whole study and sorted it for every page (368 ms a page at 178.8k responses on
PostgreSQL), or walked every study's versions in seq order and dropped the other studies'.
With (study_id, audit_seq) the page is read in order from the study's own range and stops.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from pro_server.edc import exports
from pro_server.edc.exports import Export
from pro_server.edc.records import versions_query
from pro_server.studies.models import Study

INDEX = "ix_response_study_id_audit_seq"


def _sql(engine, query) -> str:  # type: ignore[no-untyped-def]
    return str(query.compile(engine, compile_kwargs={"literal_binds": True}))


def test_a_records_page_reads_its_study_range_in_order(engine, database):
    page = _sql(engine, versions_query(7, 1234, limit=1001))
    with engine.connect() as conn:
        if database.backend == "sqlite":
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {page}")]
            assert f"SEARCH response USING INDEX {INDEX} (study_id=? AND audit_seq>?)" in plan
            assert not any("TEMP B-TREE" in step for step in plan), plan
            return
        # PostgreSQL picks by statistics; whether the page *can* come from one ordered range
        # of the study's own rows is what the schema decides, so ask with the others off.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(text(f"SET LOCAL {setting} = off"))
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {page}").scalars())
        scan = next(line for line in plan.splitlines() if "on response " in line
                    and "response_1" not in line)
        assert f"Index Scan using {INDEX} on response" in scan, plan
        assert "Index Cond: ((study_id = 7) AND (audit_seq > 1234))" in plan, plan
        assert "Sort" not in plan, plan


def test_the_postgresql_page_statement_reads_its_study_range_in_order(engine, database):
    """The statement the records pages run on PostgreSQL (`records_pg.page_query`, which
    joins the repeated texts from memoized subqueries) reads the same one range, in its
    generic plan."""
    if database.backend == "sqlite":
        pytest.skip("PostgreSQL's page statement")
    page = exports._page_sql(engine.dialect, True, True, 1001)
    page = page.replace("%(study_id)s", "$1").replace("%(after)s", "$2")
    with engine.begin() as conn:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(text(f"SET LOCAL {setting} = off"))
        conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        conn.exec_driver_sql(f"PREPARE records_page(integer, bigint) AS {page}")
        try:
            plan = "\n".join(conn.exec_driver_sql(
                "EXPLAIN EXECUTE records_page(7, 1234)").scalars())
        finally:
            conn.exec_driver_sql("DEALLOCATE records_page")
    assert f"Index Scan using {INDEX} on response" in plan, plan
    assert "Index Cond: ((study_id = $1) AND (audit_seq > $2))" in plan, plan
    assert "Sort" not in plan, plan


def test_no_index_walks_every_studys_versions_in_seq_order(engine):
    """With one on audit_seq alone, PostgreSQL read the first page of a study whose versions
    came after another's by walking the other study's 59,650 versions and dropping them."""
    indexes = inspect(engine).get_indexes("response")
    assert [i["name"] for i in indexes if i["column_names"][0] == "audit_seq"] == []
    assert any(i["column_names"] == ["study_id", "audit_seq"] for i in indexes)


def test_every_records_page_runs_one_prepared_statement_with_one_plan(edc, ctx_factory,
                                                                      clock, database):
    """Planning the page query (one large expression) took a third as long as running it for
    1000 records, on every page: its text is the same for every page, prepared once per
    connection and run with a generic plan, and only that statement is (plan_cache_mode
    is back to what it was for the rest of the transaction)."""
    if database.backend == "sqlite":
        pytest.skip("PostgreSQL's prepared statements")
    session = ctx_factory().session
    export = Export(session, session.get(Study, edc.study_id), clock.now())
    # (the fixture's own inserts into response_export may be prepared on this connection)
    statements = ("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                  "WHERE statement LIKE '%response_export%' AND statement LIKE 'SELECT %'")
    before = session.scalar(text("SELECT current_setting('plan_cache_mode')"))
    after, pages = 0, 0
    while True:
        _page, after, more = export.page_json(after, 2)
        pages += 1
        assert session.scalar(text("SELECT current_setting('plan_cache_mode')")) == before
        if not more:
            break
    assert pages > 5  # past psycopg's own threshold for preparing a statement
    prepared = session.execute(text(statements)).all()
    assert [(generic, custom) for _, generic, custom in prepared] == [(pages, 0)]
    # The page's size is in the text (a generic plan takes a bound LIMIT for a tenth of the
    # rows it estimates, enough on a large study to plan hash joins over whole tables).
    assert "LIMIT 3)" in prepared[0][0]
