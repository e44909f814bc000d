"""Exports the database builds on PostgreSQL hold what the Python builders make of the same rows.

On PostgreSQL the records API's JSON texts come out of the query (records_pg), elsewhere
from `to_record`; here both are built from one study, with the rows an export meets rarely:
a correction, Spanish answers, an item left unanswered, a score that could not be scored,
instants with microseconds, text that JSON and XML must escape. On SQLite both sides are
the Python builder, so the test documents the contract there and checks it on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import select

from pro_server.edc.exports import Export
from pro_server.responses.models import Response
from pro_server.studies.models import Study
from tests.edc.conftest import parse

UNUSUAL_REASON = 'Typed <"wrong"> & fixed — años'


def _unusual(session, study_id: int) -> None:
    """Edit stored versions into the shapes that are easy to get wrong."""
    rows = list(session.scalars(select(Response).where(Response.study_id == study_id)
                                .order_by(Response.audit_seq)))
    rand36 = next(r for r in rows if r.instrument_code == "rand36")
    answers = dict(rand36.answers)
    del answers["rand01"]  # an item left unanswered
    answers["rand02"] = {**answers["rand02"], "value": None}  # answered "nothing"
    rand36.answers = answers
    promis = next(r for r in rows if r.instrument_code == "promis_gh")
    scores = json.loads(json.dumps(promis.scores))
    key = next(iter(scores["scores"]))
    scores["scores"][key] = {"value": None, "value_text": None,
                             "reason": "too_few_items", "detail": {}}
    promis.scores = scores
    first = rows[0]
    first.started_at = first.started_at.replace(microsecond=123456)
    corrected = next(r for r in rows if r.version > 1)
    corrected.change_reason = UNUSUAL_REASON
    answers = dict(corrected.answers)
    del answers["shampoo"]  # emptied by the correction: a Remove in a Transactional file
    corrected.answers = answers
    scores = json.loads(json.dumps(corrected.scores))
    key = next(iter(scores["scores"]))
    scores["scores"][key] = {"value": None, "value_text": None,
                             "reason": "too_few_items", "detail": {}}
    corrected.scores = scores
    session.commit()


def test_records_built_by_the_database_equal_the_python_records(edc, ctx_factory, clock):
    session = ctx_factory().session
    _unusual(session, edc.study_id)
    study = session.get(Study, edc.study_id)
    for items, scores in ((False, True), (True, False), (True, True)):
        export = Export(session, study, clock.now(), items=items, scores=scores)
        python, last, more = export.page(0, 1000)
        built, built_last, built_more = export.page_json(0, 1000)
        assert [json.loads(text) for text in built] == python
        assert (built_last, built_more) == (last, more)
    # The rare shapes are there (the fixture has Spanish answers and a correction).
    assert {r["language"] for r in python} == {"en", "es"}
    assert any(r["change"] and r["change"]["reason"] == UNUSUAL_REASON for r in python)
    assert any("not_answered" in r.get("unanswered", {}).values() for r in python)
    assert any(s["value"] is None for r in python for s in r["scores"].values())
    assert any(".123456Z" in r["started_at"]["utc"] for r in python)
    # Paged: the cursor and has_more agree too.
    export = Export(session, study, clock.now())
    after, pages = 0, 0
    while True:
        python, last, more = export.page(after, 4)
        built, built_last, built_more = export.page_json(after, 4)
        assert [json.loads(text) for text in built] == python
        assert (built_last, built_more) == (last, more)
        after, pages = last, pages + 1
        if not more:
            break
    assert pages > 2


@pytest.mark.parametrize("snapshot", [False, True], ids=["transactional", "snapshot"])
def test_odm_built_by_the_database_equals_the_python_file(edc, ctx_factory, clock, odm_schema,
                                                         monkeypatch, snapshot):
    session = ctx_factory().session
    _unusual(session, edc.study_id)
    study = session.get(Study, edc.study_id)
    files = {}
    for items, scores in ((True, True), (False, True), (True, False)):
        export = Export(session, study, clock.now(), items=items, scores=scores)
        built = b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot))
        with monkeypatch.context() as m:
            m.setattr(Export, "_postgresql", lambda self: False)
            python = b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot))
        assert _canonical(built) == _canonical(python)
        files[items, scores] = built
    full = parse(files[True, True])
    assert odm_schema.validate(full), odm_schema.error_log
    ns = {"o": "http://www.cdisc.org/ns/odm/v1.3"}
    if not snapshot:  # what the correction emptied is removed, its reason escaped
        assert full.xpath("//o:ItemData[@TransactionType='Remove']", namespaces=ns)
        assert UNUSUAL_REASON in full.xpath("//o:ReasonForChange/text()", namespaces=ns)
    assert full.xpath("//o:SubjectData[@SubjectKey='EDC-M01']", namespaces=ns)  # Spanish


def _canonical(xml: bytes) -> bytes:
    return etree.tostring(parse(xml), method="c14n")
