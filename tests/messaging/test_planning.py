from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pro_server.messaging.planning import (
    PlannedMessage,
    dedup_key,
    plan_survey_window,
    plan_visit,
    plan_visit_cancellation,
    plan_visit_change,
    visit_occurrence,
)
from pro_server.messaging.purposes import Purpose, TargetKind
from pro_server.participants.reminder_channels import Channel
from pro_server.protocol.definitions import ReminderPolicy

NY = ZoneInfo("America/New_York")
# The protocol's one reminder policy type, with the values of the shipped protocol file.
POLICY = ReminderPolicy(
    window_opened_message=True, daily_reminder_local_time=time(10, 0), max_daily_reminders=3,
    last_day_reminder=True, last_day_reminder_local_time=time(10, 0), send_from=time(9, 0),
    send_until=time(20, 0), visit_reminders=True,
    visit_reminder_offsets=(timedelta(hours=24), timedelta(hours=1)),
    opt_out_notice_every_n_messages=5)


def policy(**changes) -> ReminderPolicy:  # type: ignore[no-untyped-def]
    return replace(POLICY, **changes)


def at(*args, tz=NY):
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def wall(moment):
    return moment.astimezone(NY).replace(tzinfo=None)


def summary(planned):
    return [(m.purpose.value, m.occurrence, wall(m.due_utc)) for m in planned]


# A 5-day window: opens Mon 2026-05-04 09:00 local, closes at local midnight after Fri 05-08.
OPEN = at(2026, 5, 4, 9, 0)
CLOSE = at(2026, 5, 9, 0, 0)


def test_five_day_window_default_policy():
    planned = plan_survey_window(7, OPEN, CLOSE, NY, None, POLICY, now=OPEN - timedelta(hours=1))
    assert summary(planned) == [
        ("window_opened", 0, datetime(2026, 5, 4, 9, 0)),
        ("survey_reminder", 2, datetime(2026, 5, 5, 10, 0)),
        ("survey_reminder", 3, datetime(2026, 5, 6, 10, 0)),
        ("survey_reminder", 4, datetime(2026, 5, 7, 10, 0)),
        ("last_day", 0, datetime(2026, 5, 8, 10, 0)),
    ]
    assert all(m.target_kind is TargetKind.ASSESSMENT and m.target_id == 7 for m in planned)
    assert all(m.expires_utc == CLOSE for m in planned)


def test_at_most_n_daily_reminders_and_preferred_time():
    planned = plan_survey_window(
        7, OPEN, CLOSE, NY, time(18, 30), policy(max_daily_reminders=2), now=OPEN
    )
    assert summary(planned) == [
        ("window_opened", 0, datetime(2026, 5, 4, 9, 0)),
        ("survey_reminder", 2, datetime(2026, 5, 5, 18, 30)),
        ("survey_reminder", 3, datetime(2026, 5, 6, 18, 30)),
        ("last_day", 0, datetime(2026, 5, 8, 18, 30)),  # the participant's own time
    ]


def test_no_daily_reminders_and_no_last_day():
    rules = policy(max_daily_reminders=0, last_day_reminder=False)
    planned = plan_survey_window(7, OPEN, CLOSE, NY, None, rules, now=OPEN)
    assert summary(planned) == [("window_opened", 0, datetime(2026, 5, 4, 9, 0))]


def test_without_last_day_the_last_day_gets_a_daily_reminder():
    rules = policy(max_daily_reminders=10, last_day_reminder=False)
    planned = plan_survey_window(7, OPEN, CLOSE, NY, None, rules, now=OPEN)
    assert [m.occurrence for m in planned if m.purpose is Purpose.SURVEY_REMINDER] == [2, 3, 4, 5]


def test_opening_at_night_is_announced_next_morning_with_no_second_text_that_day():
    opens = at(2026, 5, 4, 22, 0)
    planned = plan_survey_window(7, opens, CLOSE, NY, None, POLICY, now=opens)
    assert summary(planned) == [
        ("window_opened", 0, datetime(2026, 5, 5, 9, 0)),
        ("survey_reminder", 3, datetime(2026, 5, 6, 10, 0)),
        ("survey_reminder", 4, datetime(2026, 5, 7, 10, 0)),
        ("last_day", 0, datetime(2026, 5, 8, 10, 0)),
    ]


def test_reminder_moved_past_the_window_end_is_dropped():
    # Window closes Fri 09:30 local; the last-day reminder at 10:00 would come too late.
    closes = at(2026, 5, 8, 9, 30)
    planned = plan_survey_window(7, OPEN, closes, NY, None, POLICY, now=OPEN)
    assert [m.purpose for m in planned].count(Purpose.LAST_DAY) == 0
    assert all(m.due_utc < closes for m in planned)
    # A preferred time in quiet hours (07:00) moves to 09:00, still before the close.
    early = plan_survey_window(7, OPEN, closes, NY, time(7, 0), POLICY, now=OPEN)
    assert ("last_day", 0, datetime(2026, 5, 8, 9, 0)) in summary(early)


def test_preferred_time_in_the_evening_moves_to_next_morning():
    planned = plan_survey_window(
        7, OPEN, CLOSE, NY, time(21, 0), policy(max_daily_reminders=1), now=OPEN
    )
    # Day 2 reminder at 21:00 waits for day 3 09:00; the last-day one would reach 09:00
    # after the window closed and is dropped.
    assert summary(planned) == [
        ("window_opened", 0, datetime(2026, 5, 4, 9, 0)),
        ("survey_reminder", 2, datetime(2026, 5, 6, 9, 0)),
    ]


def test_local_times_hold_across_dst():
    opens = at(2026, 3, 6, 9, 0)  # EST
    closes = at(2026, 3, 11, 0, 0)  # EDT
    planned = plan_survey_window(1, opens, closes, NY, None, POLICY, now=opens)
    reminders = [m for m in planned if m.purpose is not Purpose.WINDOW_OPENED]
    assert {wall(m.due_utc).time() for m in reminders} == {time(10, 0)}
    utc_hours = [m.due_utc.hour for m in reminders]
    assert utc_hours == [15, 14, 14, 14]  # 10:00 EST, then 10:00 EDT from Sunday 03-08


def test_no_catch_up_when_planned_late():
    now = at(2026, 5, 6, 12, 0)  # day 3, noon
    planned = plan_survey_window(7, OPEN, CLOSE, NY, None, POLICY, now=now)
    assert summary(planned) == [
        ("window_opened", 0, datetime(2026, 5, 6, 12, 0)),
        ("survey_reminder", 4, datetime(2026, 5, 7, 10, 0)),
        ("last_day", 0, datetime(2026, 5, 8, 10, 0)),
    ]


def test_replanning_with_an_existing_notice_keeps_keys_stable():
    first = plan_survey_window(7, OPEN, CLOSE, NY, None, POLICY, now=OPEN)
    later = at(2026, 5, 5, 8, 0)
    again = plan_survey_window(7, OPEN, CLOSE, NY, None, POLICY, now=later, announced_utc=OPEN)
    keys_first = {dedup_key(42, m.purpose, m.target_kind, m.target_id, m.occurrence) for m in first}
    keys_again = {dedup_key(42, m.purpose, m.target_kind, m.target_id, m.occurrence) for m in again}
    assert keys_again < keys_first
    assert Purpose.WINDOW_OPENED not in {m.purpose for m in again}


def test_closed_or_empty_window_plans_nothing():
    assert plan_survey_window(7, OPEN, CLOSE, NY, None, POLICY, now=CLOSE) == []
    assert plan_survey_window(7, CLOSE, OPEN, NY, None, POLICY, now=OPEN) == []


def test_single_day_window_has_no_last_day_reminder():
    closes = at(2026, 5, 4, 23, 0)
    planned = plan_survey_window(7, OPEN, closes, NY, None, POLICY, now=OPEN)
    assert [m.purpose for m in planned] == [Purpose.WINDOW_OPENED]


def test_without_an_own_time_the_protocol_times_apply():
    """The policy's daily time is nobody's own choice: its last-day time applies then."""
    rules = policy(daily_reminder_local_time=time(11, 0),
                   last_day_reminder_local_time=time(18, 0))
    for preferred in (None, time(11, 0)):
        planned = plan_survey_window(7, OPEN, CLOSE, NY, preferred, rules, now=OPEN)
        assert summary(planned)[1:] == [
            ("survey_reminder", 2, datetime(2026, 5, 5, 11, 0)),
            ("survey_reminder", 3, datetime(2026, 5, 6, 11, 0)),
            ("survey_reminder", 4, datetime(2026, 5, 7, 11, 0)),
            ("last_day", 0, datetime(2026, 5, 8, 18, 0)),
        ]


def test_study_quiet_hours_apply_to_planning():
    rules = policy(send_from=time(10, 30))
    planned = plan_survey_window(7, OPEN, CLOSE, NY, None, rules, now=OPEN)
    assert wall(planned[0].due_utc) == datetime(2026, 5, 4, 10, 30)
    assert wall(planned[1].due_utc) == datetime(2026, 5, 5, 10, 30)


# -- visits --------------------------------------------------------------------------------


def test_visit_reminders_24h_and_1h():
    visit = at(2026, 5, 12, 14, 0)
    planned = plan_visit(3, visit, NY, POLICY, now=at(2026, 5, 1, 9, 0))
    assert summary(planned) == [
        ("visit_reminder_24h", visit_occurrence(visit), datetime(2026, 5, 11, 14, 0)),
        ("visit_reminder_1h", visit_occurrence(visit), datetime(2026, 5, 12, 13, 0)),
    ]
    assert all(m.expires_utc == visit and m.target_kind is TargetKind.VISIT for m in planned)


def test_visit_at_0930_gets_its_1h_reminder_at_0900():
    visit = at(2026, 5, 12, 9, 30)
    planned = plan_visit(3, visit, NY, POLICY, now=at(2026, 5, 1, 9, 0))
    assert [wall(m.due_utc) for m in planned] == [
        datetime(2026, 5, 11, 9, 30),
        datetime(2026, 5, 12, 9, 0),
    ]


def test_visit_at_0800_drops_the_1h_reminder():
    visit = at(2026, 5, 12, 8, 0)
    planned = plan_visit(3, visit, NY, POLICY, now=at(2026, 5, 1, 9, 0))
    assert summary(planned) == [
        ("visit_reminder_24h", visit_occurrence(visit), datetime(2026, 5, 11, 9, 0)),
    ]


def test_visit_booked_at_short_notice_gets_no_past_reminder():
    visit = at(2026, 5, 12, 15, 0)
    planned = plan_visit(3, visit, NY, POLICY, now=at(2026, 5, 12, 12, 0))
    assert [m.purpose for m in planned] == [Purpose.VISIT_REMINDER_1H]


def test_visit_reminders_can_be_disabled():
    visit = at(2026, 5, 12, 15, 0)
    only_1h = policy(visit_reminder_offsets=(timedelta(hours=1),))
    planned = plan_visit(3, visit, NY, only_1h, now=at(2026, 5, 1, 9))
    assert [m.purpose for m in planned] == [Purpose.VISIT_REMINDER_1H]
    assert plan_visit(3, visit, NY, policy(visit_reminders=False), now=at(2026, 5, 1, 9)) == []


def test_reschedule_gives_new_dedup_keys_and_a_change_notice():
    old = at(2026, 5, 12, 14, 0)
    new = at(2026, 5, 14, 11, 0)
    now = at(2026, 5, 10, 16, 0)

    def keys(planned):
        return {dedup_key(42, m.purpose, m.target_kind, m.target_id, m.occurrence) for m in planned}

    old_plan = plan_visit(3, old, NY, POLICY, now)
    new_plan = plan_visit_change(3, new, NY, POLICY, now)
    assert keys(old_plan).isdisjoint(keys(new_plan))
    assert summary(new_plan) == [
        ("visit_changed", visit_occurrence(new), datetime(2026, 5, 10, 16, 0)),
        ("visit_reminder_24h", visit_occurrence(new), datetime(2026, 5, 13, 11, 0)),
        ("visit_reminder_1h", visit_occurrence(new), datetime(2026, 5, 14, 10, 0)),
    ]
    # Planning the same reschedule twice yields the same keys (no duplicate notice).
    assert keys(plan_visit_change(3, new, NY, POLICY, now + timedelta(minutes=5))) == keys(new_plan)


def test_change_notice_at_night_waits_for_morning():
    new = at(2026, 5, 14, 11, 0)
    planned = plan_visit_change(3, new, NY, POLICY, now=at(2026, 5, 10, 22, 0))
    assert wall(planned[0].due_utc) == datetime(2026, 5, 11, 9, 0)


def test_cancellation_sends_one_notice_unless_too_late():
    visit = at(2026, 5, 12, 14, 0)
    notice = plan_visit_cancellation(3, visit, NY, POLICY, now=at(2026, 5, 11, 21, 0))
    assert summary(notice) == [
        ("visit_cancelled", visit_occurrence(visit), datetime(2026, 5, 12, 9, 0)),
    ]
    early_visit = at(2026, 5, 12, 8, 30)
    assert plan_visit_cancellation(3, early_visit, NY, POLICY, now=at(2026, 5, 11, 21, 0)) == []


def test_dedup_key_format():
    assert dedup_key(42, Purpose.SURVEY_REMINDER, TargetKind.ASSESSMENT, 7, 3) == (
        "42:survey_reminder:assessment:7:3"
    )
    assert dedup_key("p:1", "last_day", "assessment", "a/7", 0, channel=Channel.WEB) == (
        "web:p%3A1:last_day:assessment:a%2F7:0"
    )
    with pytest.raises(ValueError, match="not a valid"):
        dedup_key(1, "sometime", "assessment", 7, 0)


def test_planned_message_is_immutable():
    message = plan_visit(3, at(2026, 5, 12, 14), NY, POLICY, now=at(2026, 5, 1, 9))[0]
    assert isinstance(message, PlannedMessage)
    with pytest.raises(AttributeError):
        message.due_utc = OPEN  # type: ignore[misc]
