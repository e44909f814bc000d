"""The pull API: record shape, paging in commit order, concurrent commits, bad cursors."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server import crypto
from pro_server.context import Actor, ServiceContext
from pro_server.db import make_engine
from pro_server.edc.records import CursorCodec
from pro_server.responses.models import Response
from tests.edc import support

RECORDS = "/api/v1/edc/studies/RES001-DMPM-02/records"


def _page(client, edc, since=None, limit=5, token=None):
    query = {"limit": limit} | ({"since": since} if since else {})
    response = client.get(RECORDS, query_string=query, headers=edc.headers(token))
    assert response.status_code == 200, response.json
    return response.json


def _all_ids(ctx_factory, study_id):
    return list(ctx_factory().session.scalars(
        select(Response.id).where(Response.study_id == study_id).order_by(Response.audit_seq)))


def test_a_record_carries_keys_versions_timestamps_timing_items_and_scores(edc, client):
    records = [r for r in _page(client, edc, limit=1000)["records"]
               if r["subject_key"].startswith("EDC-")]
    first = records[0]
    assert first["subject_key"] == "EDC-G01"
    assert first["site"] == "GNV"
    assert first["assessment"]["code"] == "BASELINE"
    assert first["instrument"] == {"code": "pain_nrs", "version": "1.0"}
    assert first["version"] == 1
    assert first["replaces"] is None
    assert first["submitted_at"] == {"utc": "2026-03-01T15:00:00Z",
                                     "local": "2026-03-01T10:00:00-05:00"}
    assert first["timing"] == {"status": "on_time", "late_by_seconds": 0}
    assert first["scoring"] == {"algorithm": "nrs_single_item", "algorithm_version": "1.0.0"}
    assert set(first["items"]) == {"pain_nrs"}
    assert first["scores"]["pain_nrs"]["value"] == first["items"]["pain_nrs"]
    late = [r for r in records if r["subject_key"] == "EDC-M01"
            and r["assessment"]["code"] == "INF1_D7"]
    assert {r["timing"]["status"] for r in late} == {"late"}
    assert late[0]["timing"]["late_by_seconds"] == 2 * 3600
    assert late[0]["language"] == "es"


def test_a_correction_arrives_as_a_new_version_replacing_the_old(edc, client):
    records = _page(client, edc, limit=1000)["records"]
    last = records[-1]  # the correction was the study's last commit
    assert last["id"] == edc.corrected.id
    assert last["version"] == 2
    assert last["replaces"] == {"id": edc.corrected.replaces_id, "version": 1}
    assert last["change"] == {"reason": "Participant reported tapping the wrong answer",
                              "source": "phone call with the participant",
                              "by": "investigator@example.org", "requested_by": None}
    old = next(r for r in records if r["id"] == edc.corrected.replaces_id)
    assert old["items"]["dress"] != last["items"]["dress"]


def test_paging_returns_every_version_once_in_commit_order(edc, client, ctx_factory):
    seen, cursor, more = [], None, True
    while more:
        page = _page(client, edc, cursor, limit=4)
        seen += [r["id"] for r in page["records"]]
        cursor, more = page["next_cursor"], page["has_more"]
    assert seen == _all_ids(ctx_factory, edc.study_id)
    assert _page(client, edc, cursor)["records"] == []


def test_a_scores_only_client_gets_no_item_values(edc, client):
    record = _page(client, edc, token=edc.tokens["scores"])["records"][0]
    assert "scores" in record
    assert "items" not in record


FORGED = "eyJ2IjoxLCJzIjoxLCJxIjo5OTl9.AAAAAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("bad", ["garbage", FORGED])
def test_a_tampered_cursor_is_refused(edc, client, bad):
    response = client.get(RECORDS, query_string={"since": bad}, headers=edc.headers())
    assert response.status_code == 400
    assert "cursor" in response.json["message"]


def test_a_cursor_of_another_study_is_refused(edc, client, app):
    other = CursorCodec(app.config["SECRET_KEY"]).encode(edc.study_id + 1, 3)
    response = client.get(RECORDS, query_string={"since": other}, headers=edc.headers())
    assert response.status_code == 400


def _writer(app, subject: str, rounds: int, errors: list[BaseException]) -> None:
    """Corrections committed one by one on a connection of its own (BEGIN IMMEDIATE on
    SQLite, so a writer never fails to upgrade a read transaction)."""
    pro = app.extensions["pro"]
    engine = make_engine(pro["engine"].url.render_as_string(hide_password=False))
    crypto.bind(engine, pro["settings"].keyring)
    try:
        for n in range(rounds):
            with engine.connect() as conn:
                conn.info["immediate"] = True
                with Session(bind=conn, expire_on_commit=False) as session:
                    ctx = ServiceContext.of_app(pro, Actor.system("writer"), session=session)
                    p = session.scalar(select(support.Participant).where(
                        support.Participant.subject_key == subject))
                    support.correct(ctx, support.current(ctx, p, "INF1_D7", "pain_nrs"),
                                    "pain_nrs", n % 11, reason=f"round {n}")
                    session.commit()
                conn.info.pop("immediate", None)
            time.sleep(0.01)
    except BaseException as exc:  # reported by the test
        errors.append(exc)
    finally:
        engine.dispose()


def test_nothing_is_skipped_or_repeated_while_two_writers_commit(edc, client, app, clock,
                                                                 ctx_factory):
    clock.advance(timedelta(minutes=5))
    before = len(_all_ids(ctx_factory, edc.study_id))
    errors: list[BaseException] = []
    writers = [threading.Thread(target=_writer, args=(app, key, 12, errors))
               for key in ("EDC-G01", "EDC-G02")]
    seen, cursor = [], None
    for w in writers:
        w.start()
    while any(w.is_alive() for w in writers):
        page = _page(client, edc, cursor, limit=3)
        seen += [r["id"] for r in page["records"]]
        cursor = page["next_cursor"]
    for w in writers:
        w.join()
    assert errors == []
    more = True
    while more:
        page = _page(client, edc, cursor, limit=3)
        seen += [r["id"] for r in page["records"]]
        cursor, more = page["next_cursor"], page["has_more"]
    expected = _all_ids(ctx_factory, edc.study_id)
    assert len(expected) == before + 24
    assert seen == expected


def _waiting_for_locks(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).scalar_one()


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.postgres_only(
    reason="SQLite has one writer at a time: no uncommitted writers to overlap")
def test_a_page_read_while_two_transactions_are_uncommitted_skips_neither(
        edc, client, app, clock, ctx_factory, database):
    """PostgreSQL, where writers truly overlap: transaction A has written a correction and
    holds its audit sequence number, uncommitted; B waits to write the next one; a page is
    read in between. Neither is in that page, and the next page has both, in commit order."""
    clock.advance(timedelta(minutes=5))
    cursor, more = None, True
    while more:  # the client is up to date
        page = _page(client, edc, cursor, limit=100)
        cursor, more = page["next_cursor"], page["has_more"]
    pro = app.extensions["pro"]
    engine = make_engine(pro["engine"].url.render_as_string(hide_password=False))
    crypto.bind(engine, pro["settings"].keyring)
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def writer_b() -> None:
        _writer(app, "EDC-G02", 1, errors)

    def reader() -> None:
        try:
            results["page"] = _page(client, edc, cursor, limit=100)
        except BaseException as exc:
            errors.append(exc)

    try:
        with engine.connect() as conn, Session(bind=conn, expire_on_commit=False) as session:
            ctx = ServiceContext.of_app(pro, Actor.system("writer A"), session=session)
            p = session.scalar(select(support.Participant).where(
                support.Participant.subject_key == "EDC-G01"))
            a = support.correct(ctx, support.current(ctx, p, "INF1_D7", "pain_nrs"),
                                "pain_nrs", 3, reason="writer A")
            session.flush()  # A holds seq a.audit_seq, uncommitted
            b, r = threading.Thread(target=writer_b), threading.Thread(target=reader)
            b.start()
            _until(lambda: _waiting_for_locks(engine) == 1, "B to wait behind A")
            r.start()  # the page is read, then its audit event waits behind A and B
            _until(lambda: _waiting_for_locks(engine) == 2, "the reader to wait")
            session.commit()
        b.join()
        r.join()
    finally:
        engine.dispose()
    assert errors == []
    in_between = results["page"]
    assert in_between["records"] == []
    assert in_between["next_cursor"] == cursor
    after = _page(client, edc, cursor, limit=100)
    ids = [rec["id"] for rec in after["records"]]
    assert [rec["change"]["reason"] for rec in after["records"]] == ["writer A", "round 0"]
    assert ids[0] == a.id
    assert ids == _all_ids(ctx_factory, edc.study_id)[-2:]
    assert _page(client, edc, after["next_cursor"])["records"] == []
