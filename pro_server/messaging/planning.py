"""Pure reminder planning: which messages a survey window or a visit calls for, and when.

Every setting comes from the protocol's one ``ReminderPolicy``
(pro_server.protocol.definitions), read here as it is.

The planner returns intentions; the outbox stores them under ``dedup_key`` (unique), so
planning the same target again never duplicates a message. Rules:

- Every due time is moved out of quiet hours (participant's local time), and a message whose
  moved time is at or after the end of what it reminds of (window end, visit start) is
  dropped, never sent late.
- No catch-up: reminders whose time has passed (< ``now``) are not planned. The
  window-opened notice is the exception: it is planned for ``now`` if the window is
  already open, so a late-scheduled survey is still announced once.
- Daily reminders are numbered by local day (day 1 = the local day the window opens, the
  occurrence is the day number), so re-planning after a change keeps their keys stable and
  never yields more than ``daily_reminder_max`` distinct reminders for one window.
- Visit messages carry the visit's scheduled start (Unix seconds) as their occurrence: a
  reschedule yields new keys; the caller cancels the pending rows of the old start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from urllib.parse import quote

from pro_server.messaging.purposes import Purpose, TargetKind
from pro_server.messaging.quiet_hours import QuietHours, as_zone, local_instant
from pro_server.participants.reminder_channels import Channel
from pro_server.protocol.definitions import ReminderPolicy


def quiet_hours(policy: ReminderPolicy) -> QuietHours:
    """The sending hours of the protocol's reminder policy."""
    return QuietHours(start=policy.send_from, end=policy.send_until)


# The message texts exist for these lead times; the protocol schema allows only these.
VISIT_REMINDER_PURPOSES: dict[timedelta, Purpose] = {
    timedelta(hours=24): Purpose.VISIT_REMINDER_24H,
    timedelta(hours=1): Purpose.VISIT_REMINDER_1H,
}


@dataclass(frozen=True)
class PlannedMessage:
    purpose: Purpose
    target_kind: TargetKind
    target_id: int | str
    occurrence: int
    due_utc: datetime
    # The dispatcher must not send at or after this instant (window end / visit start);
    # None for a message that never expires (a reply to an inbound SMS).
    expires_utc: datetime | None


def dedup_key(
    participant_id: int | str,
    purpose: Purpose | str,
    target_kind: TargetKind | str,
    target_id: int | str,
    occurrence: int,
    *,
    channel: Channel | str | None = None,
) -> str:
    """'42:survey_reminder:assessment:7:3' (or prefixed 'sms:' when a channel is given, for
    rows that exist once per channel). Parts are percent-encoded, so ids holding ':' cannot
    collide with other keys."""
    parts = [participant_id, Purpose(purpose), TargetKind(target_kind), target_id, occurrence]
    if channel is not None:
        parts.insert(0, Channel(channel))
    return ":".join(quote(str(part), safe="") for part in parts)


def visit_occurrence(scheduled_start_utc: datetime) -> int:
    """The occurrence number of every message about a visit at this scheduled start."""
    _require_aware(scheduled_start_utc)
    return int(scheduled_start_utc.timestamp())


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected an aware datetime (UTC)")


def plan_survey_window(
    target_id: int | str,
    window_start_utc: datetime,
    window_end_utc: datetime,
    tz: tzinfo | str,
    preferred_local_time: time | None,
    policy: ReminderPolicy,
    now: datetime,
    *,
    announced_utc: datetime | None = None,
) -> list[PlannedMessage]:
    """Messages for one assessment window [start, end), sorted by due time.

    window_opened at the opening (moved into allowed hours); survey_reminder on local days
    2, 3, ... up to ``max_daily_reminders`` of them, not on the last local day when a last-day
    reminder is planned; last_day on the last local day when the window spans more than one
    local day. A participant's own reminder time (``preferred_local_time`` other than the
    policy's daily time) is used for both; without one, daily reminders go at the policy's
    ``daily_reminder_local_time`` and the last-day one at its ``last_day_reminder_local_time``.
    Nothing else is
    planned on or before the local day of the window-opened notice; when re-planning a
    window whose notice already exists, pass its due time as ``announced_utc`` (the notice
    is then not planned again).
    """
    for moment in (window_start_utc, window_end_utc, now):
        _require_aware(moment)
    sending = quiet_hours(policy)
    zone = as_zone(tz)
    start = window_start_utc.astimezone(UTC)
    end = window_end_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    if end <= start or end <= now:
        return []
    own = preferred_local_time not in (None, policy.daily_reminder_local_time)
    at = preferred_local_time if own and preferred_local_time else policy.daily_reminder_local_time
    last_day_at = at if own else policy.last_day_reminder_local_time
    first_day = start.astimezone(zone).date()
    # The end is exclusive: a window ending at local midnight ends on the day before.
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    span_days = (last_day - first_day).days + 1

    planned: list[PlannedMessage] = []

    def add(purpose: Purpose, occurrence: int, nominal: datetime) -> PlannedMessage | None:
        due = sending.next_allowed(nominal, zone)
        if not now <= due < end:
            return None
        message = PlannedMessage(purpose, TargetKind.ASSESSMENT, target_id, occurrence, due, end)
        planned.append(message)
        return message

    # Nothing else on the local day the participant is told the window opened.
    announced_day = first_day
    if announced_utc is not None:
        _require_aware(announced_utc)
        announced_day = announced_utc.astimezone(zone).date()
    elif policy.window_opened_message:
        opened = add(Purpose.WINDOW_OPENED, 0, max(start, now))
        if opened is not None:
            announced_day = opened.due_utc.astimezone(zone).date()

    has_last_day = policy.last_day_reminder and span_days > 1
    last_reminder_day = span_days - 1 if has_last_day else span_days
    for day_number in range(2, min(last_reminder_day, policy.max_daily_reminders + 1) + 1):
        day = first_day + timedelta(days=day_number - 1)
        if day > announced_day:
            add(Purpose.SURVEY_REMINDER, day_number, local_instant(day, at, zone))

    if has_last_day and last_day > announced_day:
        add(Purpose.LAST_DAY, 0, local_instant(last_day, last_day_at, zone))

    return sorted(planned, key=lambda message: message.due_utc)


def plan_visit(
    visit_id: int | str,
    start_utc: datetime,
    tz: tzinfo | str,
    policy: ReminderPolicy,
    now: datetime,
) -> list[PlannedMessage]:
    """Reminders the policy's offsets (24 h and/or 1 h, absolute time) before a visit, moved
    out of quiet hours and dropped if that puts them at or after the visit start, or if their
    time has passed; none when the policy's visit reminders are off."""
    _require_aware(start_utc)
    _require_aware(now)
    zone = as_zone(tz)
    start = start_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    occurrence = visit_occurrence(start)
    offsets = policy.visit_reminder_offsets if policy.visit_reminders else ()
    planned = []
    for lead_time in offsets:
        purpose = VISIT_REMINDER_PURPOSES.get(lead_time)
        if purpose is None:
            raise ValueError(f"no visit reminder text for {lead_time} before a visit")
        due = quiet_hours(policy).next_allowed(start - lead_time, zone)
        if now <= due < start:
            planned.append(
                PlannedMessage(purpose, TargetKind.VISIT, visit_id, occurrence, due, start)
            )
    return sorted(planned, key=lambda message: message.due_utc)


def plan_visit_change(
    visit_id: int | str,
    new_start_utc: datetime,
    tz: tzinfo | str,
    policy: ReminderPolicy,
    now: datetime,
) -> list[PlannedMessage]:
    """A reschedule: one visit_changed notice as soon as allowed, then the reminders for the
    new time. The caller cancels pending messages of the old occurrence. The notice is
    dropped if it could only go out at or after the new start."""
    _require_aware(new_start_utc)
    _require_aware(now)
    start = new_start_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    due = quiet_hours(policy).next_allowed(now, as_zone(tz))
    notice = []
    if due < start:
        notice.append(
            PlannedMessage(
                Purpose.VISIT_CHANGED,
                TargetKind.VISIT,
                visit_id,
                visit_occurrence(start),
                due,
                start,
            )
        )
    reminders = plan_visit(visit_id, start, tz, policy, now)
    return sorted(notice + reminders, key=lambda message: message.due_utc)


def plan_visit_cancellation(
    visit_id: int | str,
    old_start_utc: datetime,
    tz: tzinfo | str,
    policy: ReminderPolicy,
    now: datetime,
) -> list[PlannedMessage]:
    """One visit_cancelled notice as soon as allowed; none if that would be at or after the
    time the visit was to start (the notice would be pointless by then)."""
    _require_aware(old_start_utc)
    _require_aware(now)
    start = old_start_utc.astimezone(UTC)
    due = quiet_hours(policy).next_allowed(now.astimezone(UTC), as_zone(tz))
    if due >= start:
        return []
    return [
        PlannedMessage(
            Purpose.VISIT_CANCELLED,
            TargetKind.VISIT,
            visit_id,
            visit_occurrence(start),
            due,
            start,
        )
    ]
