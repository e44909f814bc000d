"""Sealing the audit trail after commit (issue 20; the argument is in docs/audit-sealing.md).

Requests only insert events; the sealer gives each committed event its place in the chain.
Nothing committed is lost when the process dies before or while sealing, rolled-back events
leave no hole, tampering with a sealed event is still reported, and on PostgreSQL writers no
longer wait for each other."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pro_server import crypto
from pro_server.audit import sealing
from pro_server.audit.models import AuditEvent
from pro_server.audit.services import record
from pro_server.context import Actor, ServiceContext
from pro_server.db import make_engine
from tests.audit.test_audit_trail import tamper, verify, verify_lines  # noqa: F401


def _seal(app) -> int:
    with app.extensions["pro"]["session_factory"]() as session:
        return sealing.seal(session, app.extensions["pro"]["events"])


def _chain(app) -> list[tuple[int, str]]:
    with app.extensions["pro"]["session_factory"]() as session:
        return [tuple(r) for r in session.execute(
            select(AuditEvent.seq, AuditEvent.entity_id).where(AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq))]


def _appended(ctx, *names: str) -> None:
    for name in names:
        record(ctx, "test.append", "test", name)
    ctx.session.commit()


def test_a_crash_between_append_and_seal_or_during_a_seal_loses_nothing(app, ctx_factory,
                                                                        clock):
    _appended(ctx_factory(), "a", "b")
    # The process died here: nothing sealed the two committed events.
    clock.advance(timedelta(seconds=90))
    code, chain, tail = verify_lines(app, "--no-seal")
    assert (code, chain) == (0, "audit chain intact: 0 events checked")
    assert tail.startswith("unsealed tail: 2 events, the oldest 90 s old")
    # A sealer that dies before its commit leaves them unsealed, not half-sealed.
    with app.extensions["pro"]["session_factory"]() as session:
        assert sealing._seal_batch(session, app.extensions["pro"]["events"], 10) == 2
    assert _chain(app) == []
    # The next run seals both, in the order they were appended.
    assert _seal(app) == 2
    assert _chain(app) == [(1, "a"), (2, "b")]
    assert verify(app) == (0, "audit chain intact: 2 events checked")


def test_rolled_back_events_never_enter_the_chain_and_leave_no_gap(app, ctx_factory):
    ctx = ctx_factory()
    record(ctx, "test.append", "test", "kept")
    savepoint = ctx.session.begin_nested()
    record(ctx, "test.append", "test", "savepoint rolled back")
    savepoint.rollback()
    ctx.session.commit()
    record(ctx, "test.append", "test", "transaction rolled back")
    ctx.session.flush()  # took its id
    ctx.session.rollback()
    _appended(ctx, "after")
    _seal(app)
    assert _chain(app) == [(1, "kept"), (2, "after")]
    assert verify(app) == (0, "audit chain intact: 2 events checked")


def test_events_committed_after_a_seal_extend_the_chain(app, ctx_factory):
    _appended(ctx_factory(), "first")
    _seal(app)
    _appended(ctx_factory(), "second", "third")
    assert verify(app) == (0, "audit chain intact: 3 events checked")  # verify sealed them
    assert _chain(app) == [(1, "first"), (2, "second"), (3, "third")]


@pytest.mark.parametrize(("change", "problem"), [
    ("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 2",
     "seq=2: content does not match its hash (the row was altered)"),
    ("DELETE FROM audit_event WHERE seq = 2", "seq=3: sequence gap: expected seq 2, found 3"),
    ("UPDATE audit_event SET seq = -seq WHERE seq IN (2, 3); "
     "UPDATE audit_event SET seq = 5 + seq WHERE seq IN (-2, -3)",
     "seq=2: prev_hash does not match the previous event's hash"),
], ids=["content", "deletion", "reorder"])
def test_tampering_with_a_sealed_event_is_reported(app, ctx_factory, tamper, change,  # noqa: F811
                                                   problem):
    _appended(ctx_factory(), "a", "b", "c", "d")
    _seal(app)
    with tamper("delete" if change.startswith("DELETE") else "update") as conn:
        for statement in change.split("; "):
            conn.execute(text(statement))
    code, chain, _tail = verify_lines(app)
    assert code == 1
    assert problem in chain


@pytest.mark.parametrize("change", [
    "UPDATE audit_event SET hash = 'x', prev_hash = 'y', seq = 99 WHERE seq = 1",
    "UPDATE audit_event SET seq = 9, prev_hash = 'p', hash = 'h', reason = 'x' "
    "WHERE seq IS NULL",
], ids=["sealing again", "changing content while sealing"])
def test_the_database_lets_an_event_be_sealed_once_and_nothing_else(app, ctx_factory, change):
    _appended(ctx_factory(), "sealed")
    _seal(app)
    _appended(ctx_factory(), "unsealed")
    with pytest.raises(DBAPIError, match="append-only"), \
            app.extensions["pro"]["engine"].begin() as conn:
        conn.execute(text(change))
    assert verify(app) == (0, "audit chain intact: 2 events checked")


def _writer_context(engine, app, name: str) -> ServiceContext:
    pro = app.extensions["pro"]
    return ServiceContext.of_app(pro, Actor.system(name),
                                 session=Session(bind=engine, expire_on_commit=False))


@pytest.mark.postgres_only(reason="SQLite has one writer at a time: writers cannot overlap")
def test_writers_do_not_wait_for_each_other_and_a_late_committer_is_sealed_after(
        app, database):
    """A has appended and not committed; B appends and commits meanwhile (with one chain
    lock B would wait for A). A seal then holds B only; A, committed late, follows it."""
    pro = app.extensions["pro"]
    engine = make_engine(pro["engine"].url.render_as_string(hide_password=False))
    crypto.bind(engine, pro["settings"].keyring)
    try:
        a = _writer_context(engine, app, "A")
        record(a, "test.append", "test", "A (late)")
        a.session.flush()  # A holds the smaller id, uncommitted
        b = threading.Thread(target=lambda: _appended(_writer_context(engine, app, "B"), "B"))
        b.start()
        b.join(timeout=30)
        assert not b.is_alive(), "B waited for A"
        assert _seal(app) == 1
        assert _chain(app) == [(1, "B")]
        a.session.commit()
        a.session.close()
        assert _seal(app) == 1
        assert _chain(app) == [(1, "B"), (2, "A (late)")]
        assert verify(app) == (0, "audit chain intact: 2 events checked")
    finally:
        engine.dispose()


@pytest.mark.postgres_only(reason="SQLite has one writer at a time: writers cannot overlap")
def test_concurrent_writers_and_sealers_make_one_complete_chain(app, database):
    """Four writers on connections of their own (every third transaction rolled back) and
    two sealers running all along: every committed event is sealed exactly once."""
    pro = app.extensions["pro"]
    engine = make_engine(pro["engine"].url.render_as_string(hide_password=False))
    crypto.bind(engine, pro["settings"].keyring)
    start, errors, writing = threading.Barrier(6), [], threading.Event()
    writing.set()

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(12):
                ctx = _writer_context(engine, app, f"writer {n}")
                with ctx.session:
                    record(ctx, "test.append", "test", f"{n}-{i}")
                    record(ctx, "test.append", "test", f"{n}-{i}+")
                    ctx.session.flush()
                    if i % 3 == 2:
                        ctx.session.rollback()
                    else:
                        ctx.session.commit()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    def sealer() -> None:
        try:
            start.wait()
            with Session(bind=engine) as session:
                while writing.is_set():
                    sealing.seal(session, pro["events"])
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    try:
        for t in writers + sealers:
            t.start()
        for t in writers:
            t.join()
        writing.clear()
        for t in sealers:
            t.join()
    finally:
        engine.dispose()
    assert errors == []
    _seal(app)
    committed = {f"{n}-{i}{plus}" for n in range(4) for i in range(12) if i % 3 != 2
                 for plus in ("", "+")}
    chain = _chain(app)
    assert sorted(name for _, name in chain) == sorted(committed)
    assert [seq for seq, _ in chain] == list(range(1, len(committed) + 1))
    assert verify(app) == (0, f"audit chain intact: {len(committed)} events checked")
