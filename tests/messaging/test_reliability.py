"""A flaky provider: every due message is sent exactly once in the end; an ambiguous timeout
is checked with the provider before any resend; an interrupted send is settled with the
provider's list."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from pro_server.messaging.feature import sms_sender
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.provider_errors import ErrorPolicy
from pro_server.participants import services
from pro_server.participants.models import Participant
from tests.messaging.support import DyingSender, local

PHONE = "+13525550151"


def _sent_once_per_key(world) -> list[OutboxMessage]:
    """Every SMS row sent has exactly one message at the fake, and the fake has no other."""
    sms = world.rows(OutboxMessage.channel == "sms")
    sent = [r for r in sms if r.provider_message_id is not None]
    assert all(r.status == "sent" for r in sent)
    by_sid = Counter(m.sid for m in world.fake.messages)
    assert sorted(by_sid) == sorted(r.provider_message_id for r in sent)
    assert set(by_sid.values()) == {1}
    return sent


def test_with_30_percent_failures_every_due_message_is_sent_exactly_once(world, clock, app):
    phones = [f"+135255502{n:02d}" for n in range(30)]
    for n, phone in enumerate(phones):
        world.enrol(f"GNV-3{n:02d}", phone)
    # More attempts than the default 6, so that the seeded run never gives up.
    app.extensions["pro"]["sms_error_policy"] = ErrorPolicy(retry_max_attempts=12)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.set_failure_rate(0.3, seed=5)
    rounds = 0
    while world.rows(OutboxMessage.status.in_(("pending", "sending")),
                     OutboxMessage.next_attempt_at <= local(2026, 3, 4, 19, 0)):
        world.dispatch()
        clock.advance(timedelta(minutes=31))  # past any backoff (at most 30 minutes)
        rounds += 1
        assert rounds < 15
    failed = world.rows(OutboxMessage.status.in_(("failed", "sending")))
    assert failed == []
    sent = _sent_once_per_key(world)
    assert Counter(m.to for m in world.fake.messages if m.to in phones) == dict.fromkeys(
        phones, 1)
    retried = [r for r in sent if r.attempts > 1]
    assert retried, "the failure rate should have caused retries"
    # 429 and 500 answers (Twilio codes 20429, 20500); a dropped connection (unknown
    # outcome) leaves no error once the message is known sent
    assert {r.last_error_code for r in retried} <= {"20429", "20500", None}


def test_a_timeout_after_the_provider_accepted_is_checked_not_resent(world, clock):
    pid = world.enrol("GNV-351", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, "accept_then_timeout")
    world.dispatch()
    (message,) = world.texts_to(PHONE)
    (row,) = world.rows(OutboxMessage.participant_id == pid,
                        OutboxMessage.provider_message_id.is_not(None))
    assert (row.status, row.provider_message_id, row.attempts) == ("sent", message.sid, 1)
    assert row.status_reason == "no answer in time, found at the provider"
    clock.advance(timedelta(hours=1))
    world.dispatch()
    assert len(world.texts_to(PHONE)) == 1


def test_a_timeout_before_the_provider_accepted_is_retried_after_a_check(world, clock):
    pid = world.enrol("GNV-352", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, "timeout")
    world.dispatch()
    assert world.texts_to(PHONE) == []
    (row,) = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.attempts > 0)
    assert (row.status, row.outcome_unknown, row.last_error_code) == (
        "pending", True, "provider_timeout")
    lists_before = world.fake.request_count
    clock.set(row.next_attempt_at)
    world.dispatch()
    (message,) = world.texts_to(PHONE)
    (row,) = world.rows(OutboxMessage.id == row.id)
    assert (row.status, row.provider_message_id, row.attempts) == ("sent", message.sid, 2)
    assert world.fake.request_count - lists_before >= 3  # asked (two list calls), then sent


def _interrupt(world, app, *, after_accept: bool = False) -> DyingSender:
    """The dispatcher dies during the provider call for PHONE."""
    dying = DyingSender(sms_sender(app), to=PHONE, after_accept=after_accept)
    dying.die_in(world)
    return dying


def test_an_interrupted_send_the_provider_lacks_is_sent_once_after_a_check(world, clock, app):
    world.enrol("GNV-353", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    _interrupt(world, app)
    (row,) = world.rows(OutboxMessage.channel == "sms", OutboxMessage.status == "sending")
    lists_before = world.fake.request_count
    clock.advance(timedelta(minutes=2))  # past the dead dispatcher's lease
    world.dispatch()
    (message,) = world.texts_to(PHONE)
    (row,) = world.rows(OutboxMessage.id == row.id)
    # Before: put in front of staff after 15 minutes, never sent.
    assert (row.status, row.provider_message_id, row.needs_review) == ("sent", message.sid,
                                                                        False)
    assert world.fake.request_count - lists_before >= 3  # asked (twice), then sent


def test_an_interrupted_send_the_provider_has_is_recorded_as_sent(world, clock, app):
    world.enrol("GNV-354", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    sid = _interrupt(world, app, after_accept=True).accepted
    clock.advance(timedelta(minutes=2))
    world.dispatch()
    (row,) = world.rows(OutboxMessage.provider_message_id == sid)
    assert (row.status, row.needs_review) == ("sent", False)
    assert len(world.texts_to(PHONE)) == 1


def test_opted_out_at_the_carrier_stops_all_sms(world, clock):
    pid = world.enrol("GNV-355", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, 21610)
    world.dispatch()
    (row,) = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.attempts > 0)
    assert (row.status, row.last_error_code, row.needs_review) == ("suppressed", "21610", True)
    assert world.participant(pid).sms_opted_out_at == clock.now()
    world.walk(local(2026, 3, 5, 12, 0))
    assert world.texts_to(PHONE) == []


def test_an_invalid_number_is_flagged_and_not_retried(world, clock):
    pid = world.enrol("GNV-356", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, 21211)
    world.dispatch()
    (row,) = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.attempts > 0)
    assert (row.status, row.attempts, row.needs_review) == ("failed", 1, True)
    assert world.participant(pid).phone_flag == "invalid_number"
    # Staff fix the number: the flag is cleared and the next reminder goes.
    world.change(lambda ctx: services.update(ctx, ctx.session.get(Participant, pid),
                                             {"phone": "+13525550157"}))
    world.walk(local(2026, 3, 5, 10, 0))
    assert len(world.texts_to("+13525550157")) == 1


def test_the_error_code_map_is_configurable(world, clock, app):
    pid = world.enrol("GNV-357", PHONE)
    policy = ErrorPolicy.from_config({"codes": {"21211": "retry_limited"}})
    app.extensions["pro"]["sms_error_policy"] = policy
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, 21211)
    world.dispatch()
    (row,) = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.attempts > 0)
    assert (row.status, world.participant(pid).phone_flag) == ("pending", None)
