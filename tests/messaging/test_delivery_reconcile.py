"""Issue 19, item 5: a delivery report that never reached the service (a database blip
answered it 5xx and Twilio did not retry, or it was lost) is fetched from the provider by
the scheduler and applied as the report would have been. The provider's status changes at
the fake Twilio without its callback being delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from pro_server.jobs import run_all_once
from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import local

PHONE = "+13525550761"


def _sent_one(world, clock) -> int:  # type: ignore[no-untyped-def]
    """One reminder sent (the Day 7 window-opened notice); returns its outbox row id."""
    world.enrol("GNV-761", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.dispatch()
    (row,) = world.rows(OutboxMessage.channel == "sms", OutboxMessage.status == "sent")
    return row.id


def _row(world, row_id: int) -> OutboxMessage:  # type: ignore[no-untyped-def]
    (row,) = world.rows(OutboxMessage.id == row_id)
    return row


def _provider_moves_without_telling(world, status: str, error_code: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """The message's status changes at the provider; its callback never arrives."""
    (message,) = world.texts_to(PHONE)
    world.fake.build_status_callback(message.sid, status, error_code)  # built, never posted
    return message.sid


def test_a_report_lost_to_a_database_blip_is_fetched_from_the_provider(world, clock, app):
    row_id = _sent_one(world, clock)
    (message,) = world.texts_to(PHONE)
    engine = app.extensions["pro"]["engine"]

    def blip(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "outbox_message" in statement:
            raise OperationalError(statement, None, Exception("connection lost"))

    event.listen(engine, "before_cursor_execute", blip)
    try:
        lost = world.post(world.fake.build_status_callback(message.sid, "delivered"))
    finally:
        event.remove(engine, "before_cursor_execute", blip)
    assert lost.status_code >= 500  # and Twilio, by default, does not post it again
    assert _row(world, row_id).status == "sent"
    clock.advance(timedelta(minutes=5))
    run_all_once(app)  # too early to ask: a report may still be on its way
    assert _row(world, row_id).status == "sent"
    clock.advance(timedelta(minutes=15))
    run_all_once(app)
    row = _row(world, row_id)
    # Before: `sent` for good; the coordinator never learns it was delivered.
    assert (row.status, row.provider_message_id) == ("delivered", message.sid)
    assert row.delivered_at is not None
    assert len(world.texts_to(PHONE)) == 1


def test_an_undelivered_message_whose_report_never_came_is_retried(world, clock, app):
    row_id = _sent_one(world, clock)
    _provider_moves_without_telling(world, "undelivered", 30003)  # handset unreachable
    clock.advance(timedelta(minutes=20))
    run_all_once(app)
    row = _row(world, row_id)
    # Before: `sent`, the participant never reminded again.
    assert (row.status, row.last_error_code) == ("pending", "30003")
    clock.set(row.next_attempt_at.replace(tzinfo=clock.now().tzinfo) + timedelta(minutes=1))
    world.dispatch()
    assert len(world.texts_to(PHONE)) == 2
    assert _row(world, row_id).status == "sent"


def test_a_failed_status_lookup_is_asked_again_later_and_never_aborts_the_job(
        world, clock, app):
    row_id = _sent_one(world, clock)
    sid = _provider_moves_without_telling(world, "delivered")
    world.fake.fail_list_next(1, 500)
    clock.advance(timedelta(minutes=20))
    run_all_once(app)  # no exception: the lookup failed, the outcome is still unknown
    assert _row(world, row_id).status == "sent"
    run_all_once(app)  # asked about a moment ago: not again before the interval
    assert _row(world, row_id).status == "sent"
    clock.advance(timedelta(minutes=16))
    run_all_once(app)
    row = _row(world, row_id)
    assert (row.status, row.provider_message_id) == ("delivered", sid)


def test_a_row_found_at_the_provider_after_a_timeout_keeps_no_timeout_error(world, clock):
    world.enrol("GNV-761", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, "accept_then_timeout")
    world.fake.fail_list_next(1, "reset")  # the check after the timeout cannot tell
    world.dispatch()
    (row,) = world.rows(OutboxMessage.channel == "sms", OutboxMessage.outcome_unknown)
    assert (row.status, row.last_error_code) == ("pending", "provider_timeout")
    clock.advance(timedelta(minutes=5))
    world.dispatch()  # asks the provider first: it has the message
    row = _row(world, row.id)
    (message,) = world.texts_to(PHONE)
    assert (row.status, row.provider_message_id) == ("sent", message.sid)
    # Before: `sent` while still showing the timeout's error code and message.
    assert (row.last_error_code, row.last_error_message) == (None, None)
