"""Each response version's export texts are stored with it, and every export writes them as the
builders do.

The records API's items, unanswered reasons and scores, and ODM's answers and scores
ItemGroupData, are written once when a version is stored (`responses.export_text`), by the
participant's submission and by a staff correction, and by the migration for versions stored
before it. The exports join them with the rest of the record or file: on PostgreSQL in the
query (records_pg, odm_pg), elsewhere in Python; both are compared here on the rows an export
meets rarely: a correction that empties an item, Spanish answers, an item left unanswered, a
score that could not be scored, instants with microseconds, text that JSON and XML must escape.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import object_session

from pro_server.audit.sealing import seal
from pro_server.edc import exports, odm
from pro_server.edc.exports import Export
from pro_server.edc.records import MissingExportTexts
from pro_server.instruments.definitions import UnknownInstrumentError
from pro_server.responses.export_text import export_row
from pro_server.responses.models import Response, ResponseExport
from pro_server.responses.services import correct_answer
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Study
from tests.edc.conftest import parse
from tests.helpers import migrate_again

UNUSUAL_REASON = 'Typed <"wrong"> & fixed — años'
SCOPES = ((True, True), (False, True), (True, False))
# How long after its window closed a version is submitted (`_unusual`), and its timing.
LATE_BY = {timedelta(microseconds=999_999): {"status": "on_time", "late_by_seconds": 0},
           timedelta(seconds=1): {"status": "late", "late_by_seconds": 1},
           timedelta(seconds=1.5): {"status": "late", "late_by_seconds": 1}}


def _versions(session, study_id: int) -> list[Response]:
    return list(session.scalars(select(Response).where(Response.study_id == study_id)
                                .order_by(Response.audit_seq)))


def _stored(session, study_id: int) -> dict[int, dict]:
    rows = session.execute(select(ResponseExport).join(
        Response, Response.id == ResponseExport.response_id)
        .where(Response.study_id == study_id)).scalars()
    return {r.response_id: {c.key: getattr(r, c.key) for c in ResponseExport.__table__.c}
            for r in rows}


def _built(session, study_id: int) -> dict[int, dict]:
    """What the builder makes of each stored version (a correction: with the one before)."""
    versions = _versions(session, study_id)
    by_id = {v.id: v for v in versions}
    return {v.id: export_row(v, by_id.get(v.replaces_id)) for v in versions}


def _empty_an_item(ctx, edc) -> Response:
    """A staff correction that empties an optional answer (a Remove in Transactional files)."""
    response = ctx.session.get(Response, edc.corrected.id)
    assert response.answers["help_p1"]["value"] is not None
    new = correct_answer(ctx, response, "help_p1", None, reason=UNUSUAL_REASON,
                         source="Paper form", approved_by="investigator@example.org")
    ctx.session.commit()
    seal(ctx.session, ctx.events)  # its place in commit order, as the scheduler's job gives
    return new


def test_each_version_stores_the_texts_the_builders_make_of_it(edc, ctx_factory):
    ctx = ctx_factory()
    new = _empty_an_item(ctx, edc)
    stored, built = _stored(ctx.session, edc.study_id), _built(ctx.session, edc.study_id)
    assert stored == built
    assert len(stored) == len(_versions(ctx.session, edc.study_id))
    emptied = stored[new.id]
    assert 'TransactionType="Remove"' in emptied["odm_items_update"]
    assert "help_p1" not in json.loads(emptied["items_json"])
    assert stored[edc.corrected.id]["odm_items_update"] is None  # it removed nothing


def _unusual(session, study_id: int) -> dict[int, dict]:
    """Stored versions in the shapes that are easy to get wrong, with their texts as the
    builder makes them (as if stored so); returns the timing of those submitted just after
    their window closed, by id."""
    rows = _versions(session, study_id)
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
    scores = json.loads(json.dumps(corrected.scores))
    key = next(iter(scores["scores"]))
    scores["scores"][key] = {"value": None, "value_text": None,
                             "reason": "too_few_items", "detail": {}}
    corrected.scores = scores
    # Submitted just after the window closed: under a second is on time, a second is late.
    others = [r for r in rows if r not in (first, corrected, rand36, promis)]
    ends = {r.assessment_id: session.get(Assessment, r.assessment_id).window_end for r in rows}
    by_assessment = {r.assessment_id: r for r in others}
    timing = {}
    for row, (after, expected) in zip(by_assessment.values(), LATE_BY.items(), strict=False):
        row.submitted_at = ends[row.assessment_id] + after
        timing[row.id] = expected
    session.flush()
    built = _built(session, study_id)
    session.execute(delete(ResponseExport).where(ResponseExport.response_id.in_(built)))
    session.execute(insert(ResponseExport), list(built.values()))
    # An assessment whose time zone changed after its versions were stored (their stored
    # local times are for the zone before: formatted again).
    session.get(Assessment, corrected.assessment_id).timezone = "Asia/Kolkata"
    session.commit()
    return timing


def test_records_are_the_same_text_on_every_backend(edc, ctx_factory, clock, monkeypatch):
    ctx = ctx_factory()
    _empty_an_item(ctx, edc)
    session = ctx.session
    timing = _unusual(session, edc.study_id)
    study = session.get(Study, edc.study_id)
    for items, scores in SCOPES:
        export = Export(session, study, clock.now(), items=items, scores=scores)
        built, last, more = export.page_json(0, 1000)
        with monkeypatch.context() as m:
            m.setattr(Export, "_postgresql", lambda self: False)
            assert export.page_json(0, 1000) == (built, last, more)
    records = [json.loads(text) for text in built]
    answers = {v.id: v.answers for v in _versions(session, edc.study_id)}
    assert all(r["items"] == {k: a["value"] for k, a in answers[r["id"]].items()}
               for r in records if "items" in r)
    # The rare shapes are there (the fixture has Spanish answers and a correction).
    assert {r["language"] for r in records} == {"en", "es"}
    assert any(r["change"] and r["change"]["reason"] == UNUSUAL_REASON for r in records)
    assert any("not_answered" in r.get("unanswered", {}).values() for r in records)
    assert any(".123456Z" in r["started_at"]["utc"] for r in records)
    assert {r["id"]: r["timing"] for r in records if r["id"] in timing} == timing
    assert len(timing) == len(LATE_BY)
    # Paged: the cursor and has_more agree too.
    export = Export(session, study, clock.now())
    after, pages = 0, 0
    while True:
        built, last, more = export.page_json(after, 4)
        with monkeypatch.context() as m:
            m.setattr(Export, "_postgresql", lambda self: False)
            assert export.page_json(after, 4) == (built, last, more)
        after, pages = last, pages + 1
        if not more:
            break
    assert pages > 2


@pytest.mark.parametrize("snapshot", [False, True], ids=["transactional", "snapshot"])
def test_odm_files_are_the_same_on_every_backend(edc, ctx_factory, clock, odm_schema,
                                                 monkeypatch, snapshot):
    ctx = ctx_factory()
    _empty_an_item(ctx, edc)
    session = ctx.session
    _unusual(session, edc.study_id)
    study = session.get(Study, edc.study_id)
    files = {}
    for items, scores in SCOPES:
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
    removed = full.xpath("//o:ItemData[@TransactionType='Remove']/@ItemOID", namespaces=ns)
    if snapshot:  # the current versions only: nothing to remove
        assert removed == []
    else:  # what the correction emptied is removed (each option), its reason escaped
        assert any(oid.startswith("I.HAQ_DI.HELP_P1.") for oid in removed)
        assert any(".SCORE." in oid for oid in removed)  # a score it could no longer score
        assert UNUSUAL_REASON in full.xpath("//o:ReasonForChange/text()", namespaces=ns)
    assert full.xpath("//o:SubjectData[@SubjectKey='EDC-M01']", namespaces=ns)  # Spanish


@pytest.mark.parametrize("snapshot", [False, True], ids=["transactional", "snapshot"])
def test_an_odm_file_read_ahead_in_small_batches_is_the_same_and_stops_when_closed(
        edc, ctx_factory, clock, monkeypatch, snapshot):
    """On PostgreSQL a thread fetches the rows ahead of the writer (`db.read_ahead`): in
    batches of two rows the file is the same; closed after its first subject the thread stops
    and the rows' cursor closes (the same export can run again in the same transaction)."""
    session = ctx_factory().session
    export = Export(session, session.get(Study, edc.study_id), clock.now())
    whole = b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot))
    monkeypatch.setattr(exports, "DRIVER_BATCH", 2)
    monkeypatch.setattr(odm, "FLUSH_BYTES", 1)  # a chunk per subject
    assert b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot)) == whole
    chunks = export.odm_clinical(0, 10**12, snapshot=snapshot)
    first = next(chunks)
    assert whole.startswith(first)
    assert len(first) < len(whole) / 2
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert bool(_readers()) == postgresql  # the rest still being read, on PostgreSQL
    chunks.close()
    assert not _readers()
    assert b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot)) == whole


def test_qs_rows_read_ahead_in_small_batches_are_the_same_and_stop_when_closed(
        edc, ctx_factory, clock, monkeypatch):
    """On PostgreSQL SDTM QS's rows are fetched ahead of its writer too: in batches of two
    rows the file is the same; closed after its first row the thread stops and the rows'
    cursor closes (the same export can run again in the same transaction)."""
    session = ctx_factory().session
    export = Export(session, session.get(Study, edc.study_id), clock.now())
    whole = b"".join(export.sdtm_csv("qs"))
    monkeypatch.setattr(exports, "DRIVER_BATCH", 2)
    assert b"".join(export.sdtm_csv("qs")) == whole
    rows = export._qs_rows()
    next(rows)
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert bool(_readers()) == postgresql  # the rest still being read, on PostgreSQL
    rows.close()  # type: ignore[attr-defined]
    assert not _readers()
    assert b"".join(export.sdtm_csv("qs")) == whole


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read_ahead"]


def _refused(session, study_id: int, now, error: type[Exception], match: str) -> None:
    """The records API's page, the Transactional and the Snapshot ODM file, and SDTM QS (CSV
    and XPT, which read the stored texts too) all refuse."""
    export = Export(session, session.get(Study, study_id), now)
    for run in (lambda: export.page_json(0, 1000),
                lambda: b"".join(export.odm_clinical(0, 10**12, snapshot=False)),
                lambda: b"".join(export.odm_clinical(0, 10**12, snapshot=True)),
                lambda: b"".join(export.sdtm_csv("qs")),
                lambda: b"".join(export.sdtm_xpt("qs"))):
        with pytest.raises(error, match=match):
            run()
        session.rollback()


@pytest.mark.parametrize("backend", ["database", "python"])
def test_a_version_of_an_unknown_questionnaire_version_is_refused(edc, ctx_factory, clock,
                                                                  monkeypatch, backend):
    """As the Python builders always did; the database-built records said `items: null`."""
    session = ctx_factory().session
    _versions(session, edc.study_id)[0].instrument_version = "9.9"
    session.commit()
    if backend == "python":
        monkeypatch.setattr(Export, "_postgresql", lambda self: False)
    _refused(session, edc.study_id, clock.now(), UnknownInstrumentError, r"version 9\.9")


@pytest.mark.parametrize("backend", ["database", "python"])
def test_a_version_without_its_texts_is_refused_not_exported_empty(edc, ctx_factory, clock,
                                                                   monkeypatch, backend):
    session = ctx_factory().session
    version = _versions(session, edc.study_id)[-1]
    session.execute(delete(ResponseExport).where(ResponseExport.response_id == version.id))
    session.commit()
    if backend == "python":
        monkeypatch.setattr(Export, "_postgresql", lambda self: False)
    _refused(session, edc.study_id, clock.now(), MissingExportTexts,
             f"audit seq {version.audit_seq} ")


def test_the_migration_stores_the_texts_of_the_versions_stored_before_it(
        edc, ctx_factory, engine):
    ctx = ctx_factory()
    _empty_an_item(ctx, edc)  # a correction that removes: its texts need the version before
    with ctx_factory().session as session:
        kept = _stored(session, edc.study_id)
    for held in (ctx.session, object_session(edc.corrected)):  # no open transaction may
        if held is not None:                                     # hold the tables
            held.close()
    assert kept
    migrate_again(engine, "0020_h20score", "0021_h20frag")
    with ctx_factory().session as session:
        assert _stored(session, edc.study_id) == kept == _built(session, edc.study_id)


@pytest.mark.parametrize("backend", ["database", "python"])
def test_a_changed_time_zone_shows_in_the_next_export(edc, ctx_factory, clock, monkeypatch,
                                                     backend):
    """A version's local times are stored for its assessment's zone when it was stored: after
    the zone changes, the records and both ODM files show them in the new zone."""
    session = ctx_factory().session
    version = _versions(session, edc.study_id)[0]
    assessment = session.get(Assessment, version.assessment_id)
    stored = session.get(ResponseExport, version.id)
    assert stored.zone == assessment.timezone != "Asia/Kolkata"
    assessment.timezone = "Asia/Kolkata"
    session.commit()
    if backend == "python":
        monkeypatch.setattr(Export, "_postgresql", lambda self: False)
    local = {name: getattr(version, f"{name}_at").astimezone(ZoneInfo("Asia/Kolkata"))
             .isoformat() for name in ("started", "submitted", "recorded")}
    assert all(text.endswith("+05:30") and text != getattr(stored, f"{name}_local")
               for name, text in local.items())
    export = Export(session, session.get(Study, edc.study_id), clock.now())
    record = next(r for r in map(json.loads, export.page_json(0, 1000)[0])
                  if r["id"] == version.id)
    assert {name: record[f"{name}_at"]["local"] for name in local} == local
    assert record["assessment"]["timezone"] == "Asia/Kolkata"
    ns = {"o": "http://www.cdisc.org/ns/odm/v1.3"}
    for snapshot in (False, True):
        odm = parse(b"".join(export.odm_clinical(0, 10**12, snapshot=snapshot)))
        values = odm.xpath("//o:ItemData[contains(@ItemOID, '.ADMIN.STARTED') or "
                           "contains(@ItemOID, '.ADMIN.SUBMITTED')]/@Value", namespaces=ns)
        assert {local["started"], local["submitted"]} <= set(values)


def test_the_migration_stores_the_instants_of_the_versions_stored_before_it(
        edc, ctx_factory, engine):
    ctx = ctx_factory()
    with ctx_factory().session as session:
        kept = _stored(session, edc.study_id)
        zones = {v.id: v.assessment.timezone for v in _versions(session, edc.study_id)}
    if object_session(edc.corrected) is not None:  # no open transaction may hold the tables
        object_session(edc.corrected).close()
    ctx.session.close()
    assert kept
    assert all(kept[id_]["zone"] == zone for id_, zone in zones.items())
    migrate_again(engine, "0021_h20frag", "0022_h20exp3")
    with ctx_factory().session as session:
        assert _stored(session, edc.study_id) == kept == _built(session, edc.study_id)


def _canonical(xml: bytes) -> bytes:
    return etree.tostring(parse(xml), method="c14n")
