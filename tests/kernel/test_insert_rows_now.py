"""db.insert_rows_now stores what Core's INSERT stores, whatever the backend's statement
(PostgreSQL: one JSON parameter read as records; one row: a VALUES row), with the ids in the
rows' order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import DBAPIError

from pro_server.audit.models import AuditEvent
from pro_server.db import (
    JSONText,
    JSONWritten,
    insert_rows_now,
    json_object_written,
    json_written,
)

EVENTS = cast(Table, AuditEvent.__table__)
TRICKY = ['plain', 'quote " and \' apostrophe', "back\\slash \\u00e9 \\\\", "new\nline\ttab\r",
          "unicode é ü 中文 😀", "json-looking {\"a\": [1, 2]}", "", "NULL", "{}", "  spaced  "]


def _rows(tag: str) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    return [{"occurred_at": at + timedelta(microseconds=n), "actor_type": "system",
             "actor_id": None if n % 3 == 0 else str(n), "actor_label": word,
             "action": f"test.{tag}", "entity_type": "thing", "entity_id": str(n),
             "study_id": None, "site_id": None,
             "before": None if n % 2 else {"w": word, "n": n, "f": 0.1 * n, "ok": n > 3},
             "after": {"list": [word, None, 1.5, -2], "nested": {"z": word, "a": n}},
             "reason": word, "request_id": None}
            for n, word in enumerate(TRICKY)]


def _stored(session: Any, tag: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(
        "SELECT occurred_at, actor_type, actor_id, actor_label, action, entity_type, "
        "entity_id, study_id, site_id, before, after, reason, request_id, seq, hash "
        "FROM audit_event WHERE action = :action ORDER BY id"), {"action": f"test.{tag}"})]


def _insert(session: Any, rows: list[dict[str, Any]], one_by_one: bool) -> None:
    for some in ([row] for row in rows) if one_by_one else [rows]:
        insert_rows_now(session, EVENTS, some)


@pytest.mark.parametrize("one_by_one", [False, True])
def test_rows_are_stored_as_cores_insert_stores_them(ctx_factory, one_by_one):
    session = ctx_factory().session
    session.execute(insert(EVENTS), _rows("core"))
    _insert(session, _rows("now"), one_by_one)
    session.commit()
    core, now = _stored(session, "core"), _stored(session, "now")
    assert len(now) == len(TRICKY)
    assert [r[:4] + r[5:] for r in now] == [r[:4] + r[5:] for r in core]


@pytest.mark.parametrize("one_by_one", [False, True])
def test_json_written_once_is_stored_as_the_value_would_be(ctx_factory, one_by_one):
    session = ctx_factory().session
    core, now = _rows("core-json"), _rows("now-json")
    for n, row in enumerate(now):
        if n % 2 == 0:
            row["after"] = json_written(row["after"])
        if n == 1:  # NaN: JSONText writes it (not strict JSON); stored as text all the same
            row["before"] = core[n]["before"] = {"x": float("nan"), "y": [float("inf")]}
    session.execute(insert(EVENTS), core)
    _insert(session, now, one_by_one)
    session.commit()
    assert [r[:4] + r[5:] for r in _stored(session, "now-json")] == [
        r[:4] + r[5:] for r in _stored(session, "core-json")]


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [1, {"z": None, "y": "é\"\n"}], "c": {"x": 1.5, "w": True}},
    {}, {"only": "x"}, {"n": -3, "big": 10**20, "s": "😀"}])
def test_an_object_written_from_written_members_is_the_same_text(value):
    plain = JSONText().process_bind_param(value, None)
    assert json_written(value) == plain
    for key in value:
        written = {key: json_written(value[key])}
        rest = {k: v for k, v in value.items() if k != key}
        text = json_object_written(rest, written)
        assert type(text) is JSONWritten
        assert text == plain
    with pytest.raises(ValueError, match="Out of range float"):
        json_written({"x": float("nan")})


def test_instants_are_stored_as_cores_insert_stores_them(ctx_factory):
    """One instant shared by rows (its text made once), equal instants given in other zones,
    and the two instants of a repeated wall-clock hour (equal as datetimes of one zone)."""
    shared = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    london = ZoneInfo("Europe/London")
    repeated = [datetime(2026, 10, 25, 1, 30, tzinfo=london, fold=fold) for fold in (0, 1)]
    instants = [shared, shared, shared.astimezone(ZoneInfo("Asia/Tokyo")), shared,
                *repeated, repeated[0].astimezone(UTC), repeated[1].astimezone(UTC)]
    core, now = _rows("core-at")[:len(instants)], _rows("now-at")[:len(instants)]
    for at, core_row, now_row in zip(instants, core, now, strict=True):
        core_row["occurred_at"] = now_row["occurred_at"] = at
    session = ctx_factory().session
    session.execute(insert(EVENTS), core)
    insert_rows_now(session, EVENTS, now)
    session.commit()
    stored = _stored(session, "now-at")
    assert [r[:4] + r[5:] for r in stored] == [r[:4] + r[5:] for r in _stored(session, "core-at")]
    assert stored[4][0] != stored[5][0]  # not taken for one another
    assert stored[4][0] == stored[6][0]
    assert stored[5][0] == stored[7][0]


def test_the_ids_come_back_in_the_rows_order(ctx_factory):
    session = ctx_factory().session
    rows = [{**row, "entity_id": f"{n}"} for n, row in enumerate(_rows("order") * 4)]
    ids = insert_rows_now(session, EVENTS, rows, returning_ids=True)
    session.commit()
    assert len(ids) == len(rows) == len(set(ids))
    stored = {event_id: entity_id for event_id, entity_id in session.execute(
        select(AuditEvent.id, AuditEvent.entity_id).where(AuditEvent.id.in_(ids))).all()}
    assert [stored[i] for i in ids] == [row["entity_id"] for row in rows]
    assert ids == sorted(ids)
    (one,) = insert_rows_now(session, EVENTS, rows[:1], returning_ids=True)
    assert one > ids[-1]
    assert session.scalar(select(AuditEvent.entity_id).where(AuditEvent.id == one)) == "0"


@pytest.mark.parametrize("count", [1, 2])
def test_a_string_too_long_for_its_column_is_refused_not_cut(ctx_factory, database, count):
    if database.backend == "sqlite":
        pytest.skip("SQLite does not check a VARCHAR's length")
    session = ctx_factory().session
    row = {**_rows("long")[0], "actor_type": "x" * 21}  # String(20)
    with pytest.raises(DBAPIError, match="too long"):
        insert_rows_now(session, EVENTS, [row] * count)
    session.rollback()


def test_no_rows_send_nothing(ctx_factory):
    assert insert_rows_now(ctx_factory().session, EVENTS, [], returning_ids=True) == []
