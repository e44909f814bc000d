"""Pure reminder planning: which messages a survey window or a visit calls for, and when.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

from pro_server.messaging.purposes import Channel, Purpose, TargetKind
from pro_server.messaging.quiet_hours import QuietHours, as_zone, local_instant, parse_hhmm

DEFAULT_PREFERRED_TIME = time(10, 0)


@dataclass(frozen=True)
class ReminderPolicy:
    """Reminder settings of a study, read from the protocol file.

    Dict form (all keys optional)::

        {"window_opened": true, "daily_reminder_max": 3, "last_day": true,
         "default_local_time": "10:00", "quiet_hours": {"start": "09:00", "end": "20:00"},
         "visit_reminder_24h": true, "visit_reminder_1h": true}
    """

    window_opened: bool = True
    daily_reminder_max: int = 3
    last_day: bool = True
    default_local_time: time = DEFAULT_PREFERRED_TIME
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    visit_reminder_24h: bool = True
    visit_reminder_1h: bool = True

    def __post_init__(self) -> None:
        if self.daily_reminder_max < 0:
            raise ValueError("daily_reminder_max must be >= 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ReminderPolicy:
        data = dict(data or {})
        known = {
            "window_opened",
            "daily_reminder_max",
            "last_day",
            "default_local_time",
            "quiet_hours",
            "visit_reminder_24h",
            "visit_reminder_1h",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"reminder policy: unknown keys {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for flag in ("window_opened", "last_day", "visit_reminder_24h", "visit_reminder_1h"):
            if flag in data:
                if not isinstance(data[flag], bool):
                    raise ValueError(f"reminder policy: {flag} must be true or false")
                kwargs[flag] = data[flag]
        if "daily_reminder_max" in data:
            value = data["daily_reminder_max"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("reminder policy: daily_reminder_max must be an integer")
            kwargs["daily_reminder_max"] = value
        if "default_local_time" in data:
            kwargs["default_local_time"] = parse_hhmm(data["default_local_time"])
        if "quiet_hours" in data:
            kwargs["quiet_hours"] = QuietHours.from_config(data["quiet_hours"])
        return cls(**kwargs)


PolicyLike = ReminderPolicy | Mapping[str, Any] | None


def _policy(policy: PolicyLike) -> ReminderPolicy:
    return policy if isinstance(policy, ReminderPolicy) else ReminderPolicy.from_dict(policy)


@dataclass(frozen=True)
class PlannedMessage:
    purpose: Purpose
    target_kind: TargetKind
    target_id: int | str
    occurrence: int
    due_utc: datetime
    # The dispatcher must not send at or after this instant (window end / visit start).
    expires_utc: datetime


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
    policy: PolicyLike,
    now: datetime,
    *,
    announced_utc: datetime | None = None,
) -> list[PlannedMessage]:
    """Messages for one assessment window [start, end), sorted by due time.

    window_opened at the opening (moved into allowed hours); survey_reminder at the
    preferred local time on local days 2, 3, ... up to ``daily_reminder_max`` of them, not on
    the last local day when a last-day reminder is planned; last_day at the preferred time
    on the last local day when the window spans more than one local day. Nothing else is
    planned on or before the local day of the window-opened notice; when re-planning a
    window whose notice already exists, pass its due time as ``announced_utc`` (the notice
    is then not planned again).
    """
    for moment in (window_start_utc, window_end_utc, now):
        _require_aware(moment)
    rules = _policy(policy)
    zone = as_zone(tz)
    start = window_start_utc.astimezone(UTC)
    end = window_end_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    if end <= start or end <= now:
        return []
    at = preferred_local_time or rules.default_local_time
    first_day = start.astimezone(zone).date()
    # The end is exclusive: a window ending at local midnight ends on the day before.
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    span_days = (last_day - first_day).days + 1

    planned: list[PlannedMessage] = []

    def add(purpose: Purpose, occurrence: int, nominal: datetime) -> PlannedMessage | None:
        due = rules.quiet_hours.next_allowed(nominal, zone)
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
    elif rules.window_opened:
        opened = add(Purpose.WINDOW_OPENED, 0, max(start, now))
        if opened is not None:
            announced_day = opened.due_utc.astimezone(zone).date()

    has_last_day = rules.last_day and span_days > 1
    last_reminder_day = span_days - 1 if has_last_day else span_days
    for day_number in range(2, min(last_reminder_day, rules.daily_reminder_max + 1) + 1):
        day = first_day + timedelta(days=day_number - 1)
        if day > announced_day:
            add(Purpose.SURVEY_REMINDER, day_number, local_instant(day, at, zone))

    if has_last_day and last_day > announced_day:
        add(Purpose.LAST_DAY, 0, local_instant(last_day, at, zone))

    return sorted(planned, key=lambda message: message.due_utc)


def plan_visit(
    visit_id: int | str,
    start_utc: datetime,
    tz: tzinfo | str,
    policy: PolicyLike,
    now: datetime,
) -> list[PlannedMessage]:
    """Reminders 24 h and 1 h (absolute time) before a visit, moved out of quiet hours and
    dropped if that puts them at or after the visit start, or if their time has passed."""
    _require_aware(start_utc)
    _require_aware(now)
    rules = _policy(policy)
    zone = as_zone(tz)
    start = start_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    occurrence = visit_occurrence(start)
    wanted = [
        (rules.visit_reminder_24h, Purpose.VISIT_REMINDER_24H, timedelta(hours=24)),
        (rules.visit_reminder_1h, Purpose.VISIT_REMINDER_1H, timedelta(hours=1)),
    ]
    planned = []
    for enabled, purpose, lead_time in wanted:
        if not enabled:
            continue
        due = rules.quiet_hours.next_allowed(start - lead_time, zone)
        if now <= due < start:
            planned.append(
                PlannedMessage(purpose, TargetKind.VISIT, visit_id, occurrence, due, start)
            )
    return sorted(planned, key=lambda message: message.due_utc)


def plan_visit_change(
    visit_id: int | str,
    new_start_utc: datetime,
    tz: tzinfo | str,
    policy: PolicyLike,
    now: datetime,
) -> list[PlannedMessage]:
    """A reschedule: one visit_changed notice as soon as allowed, then the reminders for the
    new time. The caller cancels pending messages of the old occurrence. The notice is
    dropped if it could only go out at or after the new start."""
    _require_aware(new_start_utc)
    _require_aware(now)
    rules = _policy(policy)
    start = new_start_utc.astimezone(UTC)
    now = now.astimezone(UTC)
    due = rules.quiet_hours.next_allowed(now, as_zone(tz))
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
    reminders = plan_visit(visit_id, start, tz, rules, now)
    return sorted(notice + reminders, key=lambda message: message.due_utc)


def plan_visit_cancellation(
    visit_id: int | str,
    old_start_utc: datetime,
    tz: tzinfo | str,
    policy: PolicyLike,
    now: datetime,
) -> list[PlannedMessage]:
    """One visit_cancelled notice as soon as allowed; none if that would be at or after the
    time the visit was to start (the notice would be pointless by then)."""
    _require_aware(old_start_utc)
    _require_aware(now)
    rules = _policy(policy)
    start = old_start_utc.astimezone(UTC)
    due = rules.quiet_hours.next_allowed(now.astimezone(UTC), as_zone(tz))
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
