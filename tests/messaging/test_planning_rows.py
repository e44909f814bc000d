"""The outbox follows the schedule: visits scheduled, moved and cancelled; a new reminder
time; a withdrawal; planning twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from pro_server.messaging import outbox
from pro_server.messaging.models import OutboxMessage
from pro_server.participants import services as participants
from pro_server.participants.models import Participant
from pro_server.schedule import visits
from pro_server.schedule.models import Assessment, Visit
from tests.messaging.support import NEW_YORK, local

PHONE = "+13525550161"


def _participant(ctx, pid):
    return ctx.session.get(Participant, pid)


def _visit_rows(world, visit_id, *conditions):
    return world.rows(OutboxMessage.target_kind == "visit", OutboxMessage.target_id == visit_id,
                      OutboxMessage.channel == "sms", *conditions)


def _appointment_texts(world) -> list[tuple[datetime, str]]:
    return [(m.date_created.astimezone(NEW_YORK).replace(tzinfo=None), m.body)
            for m in world.texts_to(PHONE) if "appointment" in m.body]


def test_a_rescheduled_visit_gets_no_reminder_for_the_old_time(world, clock):
    pid = world.enrol("GNV-401", PHONE)
    visit = world.change(lambda ctx: visits.schedule_visit(
        ctx, _participant(ctx, pid), starts_at_local=datetime(2026, 3, 10, 14, 0), mode="phone"))
    assert [(r.purpose, r.due_at) for r in _visit_rows(world, visit.id)] == [
        ("visit_reminder_24h", local(2026, 3, 9, 14, 0)),
        ("visit_reminder_1h", local(2026, 3, 10, 13, 0))]

    clock.set(local(2026, 3, 2, 12, 0))
    world.change(lambda ctx: visits.reschedule_visit(
        ctx, ctx.session.get(Visit, visit.id), starts_at_local=datetime(2026, 3, 12, 11, 0),
        reason="Participant asked to move it"))
    rows = _visit_rows(world, visit.id)
    assert Counter((r.purpose, r.status) for r in rows) == {
        ("visit_reminder_24h", "cancelled"): 1, ("visit_reminder_1h", "cancelled"): 1,
        ("visit_changed", "pending"): 1, ("visit_reminder_24h", "pending"): 1,
        ("visit_reminder_1h", "pending"): 1}

    world.walk(local(2026, 3, 13, 0, 0), step=timedelta(hours=1))
    texts = _appointment_texts(world)
    assert [at for at, _ in texts] == [
        datetime(2026, 3, 2, 12, 0), datetime(2026, 3, 11, 11, 0), datetime(2026, 3, 12, 10, 0)]
    assert "your study appointment has moved to Thu, Mar 12, 11:00 AM." in texts[0][1]
    assert "reminder of your study appointment on Thu, Mar 12, 11:00 AM." in texts[1][1]
    assert "starts in about 1 hour (Thu, Mar 12, 11:00 AM)." in texts[2][1]


def test_a_reminder_already_due_is_cancelled_by_a_reschedule_and_back_again(world, clock):
    pid = world.enrol("GNV-402", PHONE)
    visit = world.change(lambda ctx: visits.schedule_visit(
        ctx, _participant(ctx, pid), starts_at_local=datetime(2026, 3, 3, 12, 0), mode="video"))
    clock.set(local(2026, 3, 2, 12, 0))  # the 24 h reminder is due, not yet dispatched
    move = lambda when: world.change(lambda ctx: visits.reschedule_visit(  # noqa: E731
        ctx, ctx.session.get(Visit, visit.id), starts_at_local=when, reason="moved"))
    move(datetime(2026, 3, 5, 12, 0))
    (old,) = _visit_rows(world, visit.id, OutboxMessage.due_at == local(2026, 3, 2, 12, 0),
                         OutboxMessage.purpose == "visit_reminder_24h")
    assert (old.status, old.status_reason) == ("cancelled", "no longer planned (schedule changed)")
    move(datetime(2026, 3, 3, 12, 0))  # back to the first time: its reminders come back
    (old,) = _visit_rows(world, visit.id, OutboxMessage.id == old.id)
    assert old.status == "pending"
    world.dispatch()
    texts = sorted(body for _, body in _appointment_texts(world))
    assert len(texts) == 2
    assert "reminder of your study appointment on Tue, Mar 3, 12:00 PM" in texts[0]
    assert "your study appointment has moved to Tue, Mar 3, 12:00 PM" in texts[1]


def test_a_cancelled_visit_sends_one_notice_in_allowed_hours(world, clock):
    pid = world.enrol("GNV-403", PHONE)
    visit = world.change(lambda ctx: visits.schedule_visit(
        ctx, _participant(ctx, pid), starts_at_local=datetime(2026, 3, 10, 14, 0), mode="phone"))
    clock.set(local(2026, 3, 2, 21, 0))  # quiet hours: the notice waits for 09:00
    world.change(lambda ctx: visits.cancel_visit(ctx, ctx.session.get(Visit, visit.id),
                                                 reason="Investigator unavailable"))
    world.walk(local(2026, 3, 11, 0, 0), step=timedelta(hours=1))
    texts = _appointment_texts(world)
    assert len(texts) == 1
    assert texts[0][0] == datetime(2026, 3, 3, 9, 0)
    assert texts[0][1].startswith(
        "Study Check-in: your study appointment on Tue, Mar 10, 2:00 PM is cancelled.")
    assert {r.status for r in _visit_rows(world, visit.id)
            if r.purpose != "visit_cancelled"} == {"cancelled"}


def test_a_new_reminder_time_moves_pending_reminders(world, clock):
    pid = world.enrol("GNV-404", PHONE)
    before = world.rows(OutboxMessage.participant_id == pid)
    world.change(lambda ctx: participants.update(ctx, _participant(ctx, pid),
                                                 {"reminder_time": "17:15"}))
    after = world.rows(OutboxMessage.participant_id == pid)
    assert len(after) == len(before)
    reminders = [r for r in after if r.purpose == "survey_reminder" and r.status == "pending"]
    assert reminders
    assert {r.due_at.astimezone(NEW_YORK).strftime("%H:%M") for r in reminders} == {"17:15"}


def test_planning_again_changes_nothing(world, ctx_factory):
    pid = world.enrol("GNV-405", PHONE)
    before = [(r.dedup_key, r.status, r.due_at) for r in world.rows()]
    ctx = ctx_factory()
    for a in ctx.session.scalars(select(Assessment).where(Assessment.participant_id == pid)):
        outbox.plan_assessment(ctx, a)
    ctx.session.commit()
    assert [(r.dedup_key, r.status, r.due_at) for r in world.rows()] == before
    with world.session() as session:
        day7 = session.scalar(select(Assessment.id).where(
            Assessment.participant_id == pid, Assessment.code == "INF1_D7"))
    keys = {r.dedup_key for r in world.rows(OutboxMessage.participant_id == pid)}
    assert {f"sms:{pid}:window_opened:assessment:{day7}:0",
            f"web:{pid}:window_opened:assessment:{day7}:0",
            f"sms:{pid}:survey_reminder:assessment:{day7}:2",
            f"sms:{pid}:last_day:assessment:{day7}:0"} <= keys


def test_withdrawal_cancels_everything_pending(world, clock):
    pid = world.enrol("GNV-406", PHONE)
    world.change(lambda ctx: visits.schedule_visit(
        ctx, _participant(ctx, pid), starts_at_local=datetime(2026, 3, 10, 14, 0), mode="phone"))
    pending = [r.id for r in world.rows(OutboxMessage.participant_id == pid,
                                        OutboxMessage.status == "pending")]
    assert len(pending) > 10
    world.change(lambda ctx: participants.withdraw(ctx, _participant(ctx, pid), "Moved away"))
    rows = world.rows(OutboxMessage.id.in_(pending))
    assert {(r.status, r.status_reason) for r in rows} == {
        ("cancelled", "participant withdrawn"), ("cancelled", "survey cancelled")}
    world.walk(local(2026, 3, 11, 0, 0), step=timedelta(hours=2))
    assert world.texts_to(PHONE) == []


def test_the_dispatcher_itself_never_reminds_of_a_survey_already_done(world, clock):
    # Completing a survey cancels its reminders at once; this proves the second guard: a row
    # still pending when the survey is done (another process completed it between planning
    # and sending) is cancelled by the dispatcher at send time, not texted.
    pid = world.enrol("GNV-403", PHONE)
    pending = world.rows(OutboxMessage.target_kind == "assessment",
                         OutboxMessage.participant_id == pid, OutboxMessage.channel == "sms",
                         OutboxMessage.status == "pending")
    first = min(pending, key=lambda r: r.due_at)
    ctx = world.ctx_factory()
    assessment = ctx.session.get(Assessment, first.target_id)
    assessment.completed_at = first.due_at - timedelta(hours=1)  # behind the planner's back
    ctx.session.commit()
    clock.set(first.due_at)
    world.dispatch()
    (row,) = world.rows(OutboxMessage.id == first.id)
    assert (row.status, row.status_reason) == ("cancelled", "survey completed")
    assert world.texts_to(PHONE) == []


def test_a_back_dated_enrolment_plans_nothing_that_is_already_over(world, clock):
    """Enrolled 40 days ago, first infusion recorded as given 30 days ago: the baseline
    window closed long before today. Before: its window-opened notice (planned for now
    while the enrolment alone left the window open) stayed, and the dispatcher suppressed
    it as "would arrive after the event it is about"."""
    clock.set(local(2026, 6, 1, 12, 0))
    pid = world.enrol("GNV-170", PHONE, enrolled_on=datetime(2026, 4, 22).date(),
                      infusion_local=datetime(2026, 5, 2, 10, 0))
    world.run_jobs()
    rows = world.rows(OutboxMessage.participant_id == pid)
    assert [r.status_reason for r in rows if r.status == "suppressed"] == []
    assert [r for r in rows if r.expires_at is not None and r.expires_at <= r.created_at] == []
    assert {r.status for r in rows if r.purpose == "window_opened"} <= {"sent", "pending"}
