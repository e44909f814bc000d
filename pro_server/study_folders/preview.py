"""What a protocol does to one made-up participant: every window and every reminder.

A study designer checks a protocol before it goes live with ``pro study preview``. Nothing
here computes a window or a reminder itself: the windows come from the schedule planner
(``plan_assessments``) and the reminders from the messaging planner
(``plan_survey_window``) with the protocol's reminder policy, exactly as for a real
participant whose infusions are all given on their planned dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from pro_server.local_time import local_to_utc, utc_to_local, zone
from pro_server.messaging.planning import PlannedMessage, plan_survey_window
from pro_server.protocol.definitions import ProtocolDefinition
from pro_server.protocol.planner import (
    InfusionRecord,
    PlannedAssessment,
    plan_assessments,
    planned_infusion_dates,
)
from pro_server.study_folders.folders import StudyFolder

DEFAULT_ENROLMENT_LEAD = timedelta(days=7)
DEFAULT_INFUSION_TIME = time(9, 0)


def preview(
    study: StudyFolder,
    day0: date,
    *,
    tz: str | None = None,
    version: int | None = None,
    enrolled_on: date | None = None,
    infusion_time: time = DEFAULT_INFUSION_TIME,
) -> Iterator[str]:
    """Lines describing the calendar and messages of a made-up participant.

    Enrolled ``enrolled_on`` (default a week before Day 0), every infusion given on its
    planned date at ``infusion_time`` local, no survey ever answered (so every reminder the
    policy allows is shown), in ``tz`` (default: the study's time zone).
    """
    protocol = study.protocol(version) if version is not None else study.current
    tz = tz or study.timezone
    zone(tz)
    enrolled_on = enrolled_on or day0 - DEFAULT_ENROLMENT_LEAD
    if enrolled_on > day0:
        raise ValueError(f"enrolment {enrolled_on} is after Day 0 {day0}")
    planned = planned_infusion_dates(protocol, day0)
    infusions = [
        InfusionRecord(number, "given", given_at_local=datetime.combine(on, infusion_time))
        for number, on in planned.items()
    ]
    calendar = plan_assessments(protocol, tz, enrolled_on, infusions)
    rules = protocol.reminder_policy
    since = local_to_utc(datetime.combine(enrolled_on, time(0)), tz)

    state = "current" if protocol.current else "not current"
    yield f"{study.code} protocol v{protocol.version} ({state}): {protocol.title}"
    yield (
        f"Made-up participant in {tz}: enrolled {enrolled_on}, every infusion given as"
        f" planned at {infusion_time:%H:%M} local, no survey answered."
    )
    yield (
        f"Messages are sent {rules.send_from:%H:%M}-{rules.send_until:%H:%M} local"
        f" (quiet hours the rest of the day); program name {study.program_name!r}."
    )
    yield ""
    yield "Infusions"
    for spec in protocol.infusions:
        yield f"  {spec.number:>2}  {spec.label:<10} {_day(planned[spec.number])}"
    yield ""
    yield f"Survey windows and reminders (local time, {tz})"
    total = 0
    for assessment in calendar:
        messages = plan_survey_window(
            assessment.sequence, assessment.window_start_utc, assessment.window_end_utc, tz,
            None, rules, since,
        )
        total += len(messages)
        yield from _window_lines(protocol, assessment, messages, tz)
    yield ""
    visits = protocol.virtual_visits
    leads = rules.visit_reminder_offsets if rules.visit_reminders else ()
    offsets = ", ".join(_lead(o) for o in leads)
    yield (
        f"Virtual visits: {visits.count} ({' or '.join(visits.modes)}), booked by the site;"
        + (f" SMS reminders {offsets} before each, moved out of quiet hours."
           if offsets else " no visit reminders.")
    )
    yield f"Total: {len(calendar)} survey windows, {total} survey messages."


def _window_lines(
    protocol: ProtocolDefinition, a: PlannedAssessment, messages: list[PlannedMessage], tz: str
) -> Iterator[str]:
    closes = {
        "window_end": "",
        "infusion_given": f"  [closes when infusion {_next_infusion(protocol, a)} is given]",
        "baseline_cap": "  [closes at the cap: infusion 1 not given]",
    }[a.end_reason]
    yield (
        f"  {a.code:<10} {_instant(a.window_start_local)} -> {_end(a)}{closes}"
        f"  ({', '.join(a.instruments)})"
    )
    for m in messages:
        label = m.purpose.value + (f" (day {m.occurrence})" if m.occurrence else "")
        yield f"  {'':<10}   {_instant(utc_to_local(m.due_utc, tz))}  {label}"


def _next_infusion(protocol: ProtocolDefinition, a: PlannedAssessment) -> int:
    return 1 if a.anchor == "enrolment" else protocol.assessment(a.code).infusion + 1


def _lead(offset: timedelta) -> str:
    hours = offset / timedelta(hours=1)
    return f"{hours:g} h"


def _day(on: date) -> str:
    return f"{on:%a %Y-%m-%d}"


def _instant(local: datetime) -> str:
    return f"{local:%a %Y-%m-%d %H:%M %Z}"


def _end(a: PlannedAssessment) -> str:
    """The window end; a window closing at midnight closes at 24:00 of its last day."""
    end = a.window_end_local
    if end.time() == time(0) and end.date() > a.last_day:
        return f"{a.last_day:%a %Y-%m-%d} 24:00 {end:%Z}"
    return _instant(end)
