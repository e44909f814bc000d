"""Issue 19: a crash, a stop or a provider outage never strands reminders. Only the row in
flight may be ambiguous; it is settled with the provider's list, and staff see it only when
the list stays unavailable past a deadline. Lookups that fail never abort the job."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from pro_server.messaging.feature import sms_sender
from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import DyingSender, local

PHONES = [f"+13525550{n}" for n in range(731, 737)]


def _enrol_all(world, phones=PHONES) -> list[int]:  # type: ignore[no-untyped-def]
    return [world.enrol(f"GNV-{phone[-3:]}", phone) for phone in phones]


def _due(world, pids) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Each participant's one SMS row due now (the Day 7 window-opened notice)."""
    rows = world.rows(OutboxMessage.channel == "sms", OutboxMessage.participant_id.in_(pids),
                      OutboxMessage.status == "pending",
                      OutboxMessage.next_attempt_at <= world.clock.now(),
                      OutboxMessage.expires_at > world.clock.now())
    assert sorted(r.participant_id for r in rows) == sorted(pids)
    return {r.participant_id: r.id for r in rows}


def _sms(world, due: dict[int, int]) -> dict[int, OutboxMessage]:  # type: ignore[no-untyped-def]
    return {r.participant_id: r for r in world.rows(OutboxMessage.id.in_(due.values()))}


def test_a_crash_mid_batch_strands_only_the_row_in_flight(world, clock, app):
    pids = _enrol_all(world)
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, pids)
    DyingSender(sms_sender(app), call=3).die_in(world)
    # Before: the whole claimed batch stayed `sending` (and went to staff 15 minutes later).
    assert Counter(r.status for r in _sms(world, due).values()) == {
        "sent": 2, "sending": 1, "pending": len(due) - 3}
    clock.advance(timedelta(minutes=20))
    world.dispatch()
    rows = list(_sms(world, due).values())
    assert [(r.status, r.needs_review) for r in rows if r.status != "sent"] == []
    at_fake = Counter(m.sid for m in world.fake.messages)
    assert sorted(at_fake) == sorted(r.provider_message_id for r in rows)
    assert set(at_fake.values()) == {1}


def test_a_failing_lookup_after_a_timeout_does_not_abort_the_job(world, clock):
    first, second = PHONES[:2]
    pids = _enrol_all(world, [first, second])
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, pids)
    world.fake.fail_next(1, "timeout")
    world.fake.fail_list_next(1, 500)  # Twilio's list answers 500: "Unable to fetch page"
    world.dispatch()  # before: TwilioException out of the job, the rest stranded
    rows = _sms(world, due)
    assert (rows[pids[0]].status, rows[pids[0]].outcome_unknown) == ("pending", True)
    assert "the check failed too" in rows[pids[0]].last_error_message
    assert rows[pids[1]].status == "sent"
    clock.advance(timedelta(minutes=31))
    world.dispatch()
    assert Counter(m.to for m in world.fake.messages) == {first: 1, second: 1}


def test_an_interrupted_send_is_rechecked_while_lookups_fail_then_shown_to_staff(
        world, clock, app, gnv):
    first, second = PHONES[:2]
    pids = _enrol_all(world, [first, second])
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, pids)
    DyingSender(sms_sender(app), to=first).die_in(world)
    world.fake.fail_list_next(100, 500)
    clock.advance(timedelta(minutes=16))
    world.dispatch()  # before: the lookup's TwilioException aborted every run from here on
    rows = _sms(world, due)
    assert rows[pids[1]].status == "sent"  # new reminders still go out
    stuck = rows[pids[0]]
    assert (stuck.status, stuck.needs_review) == ("sending", True)
    assert stuck.review_reason.startswith("Interrupted while sending: attempt 1 started")
    assert "could not be asked" in stuck.review_reason
    assert world.texts_to(first) == []
    # Staff checked the provider's console and ask for it to be sent again.
    response = gnv.post(f"/api/v1/messages/{stuck.id}/resolve",
                        json={"reason": "Not in the Twilio console", "outcome": "resend"})
    assert response.status_code == 200, response.json
    world.fake._list_failures.clear()
    world.dispatch()
    assert len(world.texts_to(first)) == 1


def test_a_lookup_outage_shorter_than_the_deadline_heals_without_staff(world, clock, app):
    first = PHONES[0]
    (pid,) = _enrol_all(world, [first])
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, [pid])
    dying = DyingSender(sms_sender(app), to=first, after_accept=True)
    dying.die_in(world)
    world.fake.fail_list_next(2, "reset")
    for _ in range(2):  # each run asks once more, a minute apart
        clock.advance(timedelta(minutes=2))
        world.dispatch()
        row = _sms(world, due)[pid]
        assert (row.status, row.needs_review) == ("sending", False)
        assert "asking again later" in row.status_reason
    clock.advance(timedelta(minutes=2))
    world.dispatch()
    row = _sms(world, due)[pid]
    assert (row.status, row.provider_message_id, row.needs_review) == (
        "sent", dying.accepted, False)
    assert len(world.texts_to(first)) == 1


def test_a_report_that_rescues_a_timed_out_row_clears_its_failure(world, clock):
    first = PHONES[0]
    (pid,) = _enrol_all(world, [first])
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, [pid])
    world.fake.fail_next(1, "accept_then_timeout")
    world.fake.fail_list_next(1, "reset")  # the check cannot tell either
    world.dispatch()
    row = _sms(world, due)[pid]
    assert (row.status, row.last_error_code) == ("pending", "provider_timeout")
    (message,) = world.texts_to(first)
    assert world.report(message.sid, "delivered").status_code == 204
    row = _sms(world, due)[pid]
    # Before: "delivered" with the timeout's error code and "retrying" reason still shown.
    assert (row.status, row.provider_message_id) == ("delivered", message.sid)
    assert (row.last_error_code, row.last_error_message, row.status_reason) == (
        None, None, None)


def test_a_report_the_database_cannot_take_answers_5xx_so_it_comes_again(world, clock, app):
    first = PHONES[0]
    (pid,) = _enrol_all(world, [first])
    clock.set(local(2026, 3, 4, 10, 0))
    due = _due(world, [pid])
    world.dispatch()
    (message,) = world.texts_to(first)
    engine = app.extensions["pro"]["engine"]
    blips = []

    def blip(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "outbox_message" in statement:  # down for longer than any retry
            blips.append(statement)
            raise OperationalError(statement, None, Exception("connection lost"))

    event.listen(engine, "before_cursor_execute", blip)
    try:
        request = world.fake.build_status_callback(message.sid, "delivered")
        assert world.post(request).status_code >= 500  # Twilio retries (connection overrides)
    finally:
        event.remove(engine, "before_cursor_execute", blip)
    assert blips
    row = _sms(world, due)[pid]
    assert row.status == "sent"
    assert world.post(request).status_code == 204  # the retry
    row = _sms(world, due)[pid]
    assert row.status == "delivered"
