"""A transaction appending several audit events takes the chain once and links each event
to the one before, also when a savepoint is rolled back or another transaction appended
in between (issue 20: the tail is remembered within a transaction, never across one)."""

from __future__ import annotations

from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.audit.services import record
from tests.foundation.test_audit_trail import verify


def _chain(ctx) -> list[tuple[int, str, str, str]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in ctx.session.execute(select(
        AuditEvent.seq, AuditEvent.action, AuditEvent.prev_hash, AuditEvent.hash)
        .order_by(AuditEvent.seq))]


def test_an_event_rolled_back_with_its_savepoint_is_not_the_next_ones_predecessor(
        app, ctx_factory):
    ctx = ctx_factory()
    record(ctx, "test.kept", "test", 1)
    savepoint = ctx.session.begin_nested()
    record(ctx, "test.rolled_back", "test", 2)
    savepoint.rollback()
    record(ctx, "test.after", "test", 3)
    ctx.session.commit()
    chain = _chain(ctx)
    assert [(seq, action) for seq, action, _, _ in chain] == [(1, "test.kept"), (2, "test.after")]
    assert chain[1][2] == chain[0][3]
    assert verify(app) == (0, "audit chain intact: 2 events checked")


def test_after_commit_the_tail_is_read_again_so_another_writers_event_is_linked(
        app, ctx_factory):
    first, second = ctx_factory(), ctx_factory()
    record(first, "test.first", "test", 1)
    first.session.commit()
    record(second, "test.other_writer", "test", 2)
    second.session.commit()
    record(first, "test.first_again", "test", 3)
    first.session.commit()
    assert [action for _, action, _, _ in _chain(first)] == [
        "test.first", "test.other_writer", "test.first_again"]
    assert verify(app) == (0, "audit chain intact: 3 events checked")


def test_after_a_rollback_the_tail_is_read_again(app, ctx_factory):
    ctx = ctx_factory()
    record(ctx, "test.kept", "test", 1)
    ctx.session.commit()
    record(ctx, "test.rolled_back", "test", 2)
    ctx.session.rollback()
    record(ctx, "test.after", "test", 3)
    ctx.session.commit()
    assert [(seq, action) for seq, action, _, _ in _chain(ctx)] == [
        (1, "test.kept"), (2, "test.after")]
    assert verify(app) == (0, "audit chain intact: 2 events checked")
