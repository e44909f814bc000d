"""Participant calendar from a protocol version and the infusion facts the site recorded (pure).

Day 0 is the local date infusion 1 was given (its planned date until then). Planned dates of
later infusions are Day 0 + the protocol's planned day unless the site recorded its own
planned date for that infusion. A given infusion creates its assessments, with windows
counted in local days from the local date it was given; assessments of infusions still to
come can be *projected* from their planned dates for display, flagged ``projected=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Literal

from pro_server.local_time import local_day_instant, local_to_utc, utc_to_local, zone
from pro_server.protocol.definitions import AssessmentSpec, ProtocolDefinition
from pro_server.protocol.windows import Window, day_window, last_local_day

InfusionStatus = Literal["planned", "given", "not_given"]
EndReason = Literal["window_end", "infusion_given", "baseline_cap"]
ENROLMENT_ANCHOR = "enrolment"


@dataclass(frozen=True)
class InfusionRecord:
    """What the site recorded about one infusion.

    ``planned_date`` is an explicit site reschedule; leave it None to follow Day 0.
    ``given_at_local`` is the naive wall-clock time in the participant's time zone.
    """

    number: int
    status: InfusionStatus
    planned_date: date | None = None
    given_at_local: datetime | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"infusion number must be >= 1, got {self.number}")
        if self.status not in ("planned", "given", "not_given"):
            raise ValueError(f"infusion {self.number}: unknown status {self.status!r}")
        if self.status == "given":
            if self.given_at_local is None:
                raise ValueError(f"infusion {self.number} is given but has no given_at_local")
            if self.given_at_local.tzinfo is not None:
                raise ValueError(
                    f"infusion {self.number}: given_at_local must be a naive local wall time"
                )
        elif self.given_at_local is not None:
            raise ValueError(f"infusion {self.number} is {self.status} but has given_at_local")
        if self.status == "not_given" and not (self.reason and self.reason.strip()):
            raise ValueError(f"infusion {self.number} is not_given and needs a reason")

    @property
    def given_date(self) -> date | None:
        return self.given_at_local.date() if self.given_at_local is not None else None


@dataclass(frozen=True)
class ScheduledInfusion:
    """One protocol infusion for one participant: its plan and what happened."""

    number: int
    label: str
    status: InfusionStatus
    protocol_date: date | None
    planned_date: date | None
    earliest: date | None
    latest: date | None
    given_at_local: datetime | None
    reason: str | None

    @property
    def off_schedule(self) -> bool:
        """Given outside the protocol's tolerance around Day 0 + planned day."""
        if self.given_at_local is None or self.earliest is None or self.latest is None:
            return False
        return not self.earliest <= self.given_at_local.date() <= self.latest


@dataclass(frozen=True)
class PlannedAssessment:
    """One assessment instance: its window in local time and in UTC, and where it came from."""

    study_code: str
    protocol_version: int
    code: str
    anchor: str
    sequence: int
    instruments: tuple[str, ...]
    tz: str
    anchor_date: date
    target_date: date | None
    first_day: date
    last_day: date
    window_start_local: datetime
    window_end_local: datetime
    window_start_utc: datetime
    window_end_utc: datetime
    end_reason: EndReason
    projected: bool
    # Set for the assessments of an infusion recorded as not given: they exist, cancelled.
    cancelled_reason: str | None = None


class InfusionOrderError(ValueError):
    """Infusions recorded out of order; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_infusion_order(infusions: Sequence[InfusionRecord]) -> None:
    """Infusions are given in order, and the dates the site recorded keep that order.

    Infusion n may be recorded as given only once infusion n-1 is recorded as given or not
    given. A site-recorded planned date must fall after the date of the infusion before it
    (given or planned) and before the date of the one after it. Dates derived from Day 0 are
    not checked here: a late infusion legitimately passes the protocol date of the next.
    """
    by_number = {r.number: r for r in infusions}
    for record in sorted(infusions, key=lambda r: r.number):
        previous = by_number.get(record.number - 1)
        if record.status == "given" and record.number > 1 and (
            previous is None or previous.status == "planned"
        ):
            raise InfusionOrderError(
                "status",
                f"Infusion {record.number} cannot be recorded as given before infusion"
                f" {record.number - 1} is recorded as given or not given",
            )
    dated: list[tuple[int, str, date]] = []
    for r in sorted(infusions, key=lambda r: r.number):
        day = r.given_date if r.status == "given" else r.planned_date
        if r.status != "not_given" and day is not None:
            dated.append((r.number, r.status, day))
    for (n1, status1, day1), (n2, status2, day2) in pairwise(dated):
        if "planned" in (status1, status2) and day2 <= day1:
            raise InfusionOrderError(
                "planned_date",
                f"Infusion {n2} ({status2} on {day2}) must come after infusion {n1}"
                f" ({status1} on {day1})",
            )


def find_day0(infusions: Sequence[InfusionRecord]) -> date | None:
    """Local date infusion 1 was given, else its planned date, else unknown."""
    for record in infusions:
        if record.number == 1:
            return record.given_date or record.planned_date
    return None


def planned_infusion_dates(protocol: ProtocolDefinition, day0: date) -> dict[int, date]:
    """Protocol dates of every infusion, counted from Day 0."""
    return {i.number: day0 + timedelta(days=i.planned_day) for i in protocol.infusions}


def infusion_schedule(
    protocol: ProtocolDefinition, infusions: Sequence[InfusionRecord]
) -> tuple[ScheduledInfusion, ...]:
    """Every infusion of the protocol with its planned date (site override or Day 0 + day)."""
    records = _records_by_number(protocol, infusions)
    day0 = find_day0(infusions)
    protocol_dates = planned_infusion_dates(protocol, day0) if day0 else {}
    tolerance = timedelta(days=protocol.planned_tolerance_days)
    schedule = []
    for spec in protocol.infusions:
        record = records.get(spec.number)
        protocol_date = protocol_dates.get(spec.number)
        planned = record.planned_date if record and record.planned_date else protocol_date
        schedule.append(
            ScheduledInfusion(
                number=spec.number,
                label=spec.label,
                status=record.status if record else "planned",
                protocol_date=protocol_date,
                planned_date=planned,
                earliest=protocol_date - tolerance if protocol_date else None,
                latest=protocol_date + tolerance if protocol_date else None,
                given_at_local=record.given_at_local if record else None,
                reason=record.reason if record else None,
            )
        )
    return tuple(schedule)


def plan_assessments(
    protocol: ProtocolDefinition,
    tz: str,
    enrolment_date: date,
    infusions: Sequence[InfusionRecord],
) -> list[PlannedAssessment]:
    """The baseline plus the assessments of every given infusion, in calendar order."""
    return [a for a in project_calendar(protocol, tz, enrolment_date, infusions) if not a.projected]


def project_calendar(
    protocol: ProtocolDefinition,
    tz: str,
    enrolment_date: date,
    infusions: Sequence[InfusionRecord],
) -> list[PlannedAssessment]:
    """``plan_assessments`` plus projections for infusions still to come (``projected=True``).

    Only infusions after the last given one, not recorded as not given and with a known
    planned date are projected. The assessments of an infusion recorded as not given are
    planned from its planned date (or enrolment + its planned day when no Day 0 is known)
    with ``cancelled_reason`` set: they are shown cancelled, with the site's reason.
    """
    zone(tz)
    records = _records_by_number(protocol, infusions)
    given_utc = _given_instants(records, tz, enrolment_date)
    last_given = max(given_utc, default=0)
    planned = {s.number: s.planned_date for s in infusion_schedule(protocol, infusions)}

    calendar = [_baseline(protocol, tz, enrolment_date, records, find_day0(infusions))]
    for sequence, spec in enumerate(protocol.assessments, start=1):
        record = records.get(spec.infusion)
        cancelled_reason = None
        if record is not None and record.status == "given":
            anchor_date, projected = record.given_date, False
        elif record is not None and record.status == "not_given":
            anchor_date, projected = planned[spec.infusion], False
            if anchor_date is None:
                planned_day = protocol.infusion(spec.infusion).planned_day
                anchor_date = enrolment_date + timedelta(days=planned_day)
            cancelled_reason = record.reason
        elif (record is None or record.status == "planned") and spec.infusion > last_given:
            anchor_date, projected = planned[spec.infusion], True
        else:
            continue
        if anchor_date is None:
            continue
        next_infusion_utc = min(
            (at for number, at in given_utc.items() if number > spec.infusion), default=None
        )
        planned_assessment = _post_infusion(
            protocol, spec, sequence, tz, anchor_date, projected, next_infusion_utc
        )
        if cancelled_reason is not None:
            planned_assessment = replace(planned_assessment, cancelled_reason=cancelled_reason)
        calendar.append(planned_assessment)
    return calendar


def _post_infusion(
    protocol: ProtocolDefinition,
    spec: AssessmentSpec,
    sequence: int,
    tz: str,
    anchor_date: date,
    projected: bool,
    next_infusion_utc: datetime | None,
) -> PlannedAssessment:
    window = day_window(
        anchor_date + timedelta(days=spec.window_start_day),
        anchor_date + timedelta(days=spec.window_end_day),
        tz,
        opens_after_midnight=protocol.window_times.opens_after_midnight,
        closes_after_midnight=protocol.window_times.closes_after_midnight,
    )
    end_reason: EndReason = "window_end"
    if (
        protocol.close_before_next_infusion
        and next_infusion_utc is not None
        and next_infusion_utc < window.end_utc
    ):
        window = _ending_at(window, max(window.start_utc, next_infusion_utc))
        end_reason = "infusion_given"
    return _assessment(
        protocol,
        code=spec.code,
        anchor=spec.anchor,
        sequence=sequence,
        instruments=spec.instruments,
        anchor_date=anchor_date,
        target_date=anchor_date + timedelta(days=spec.day),
        window=window,
        end_reason=end_reason,
        projected=projected,
    )


def _baseline(
    protocol: ProtocolDefinition,
    tz: str,
    enrolment_date: date,
    records: dict[int, InfusionRecord],
    day0: date | None,
) -> PlannedAssessment:
    """Opens on the enrolment date; closes when infusion 1 is given, or at the file's cap."""
    spec = protocol.baseline
    times = protocol.window_times
    first = records.get(1)
    if first is not None and first.status == "given" and first.given_at_local is not None:
        start = local_day_instant(enrolment_date, times.opens_after_midnight, tz)
        window = _ending_at(
            Window(tz, enrolment_date, enrolment_date, start, start),
            max(start, local_to_utc(first.given_at_local, tz)),
        )
        end_reason: EndReason = "infusion_given"
    else:
        if day0 is not None and day0 < enrolment_date:
            raise ValueError(f"infusion 1 is planned on {day0}, before enrolment {enrolment_date}")
        cap_day = (
            day0 + timedelta(days=spec.cap_days_after_planned_day0)
            if day0 is not None
            else enrolment_date + timedelta(days=spec.cap_days_after_enrolment)
        )
        window = day_window(
            enrolment_date,
            cap_day,
            tz,
            opens_after_midnight=times.opens_after_midnight,
            closes_after_midnight=times.closes_after_midnight,
        )
        end_reason = "baseline_cap"
    return _assessment(
        protocol,
        code=spec.code,
        anchor=ENROLMENT_ANCHOR,
        sequence=0,
        instruments=spec.instruments,
        anchor_date=enrolment_date,
        target_date=None,
        window=window,
        end_reason=end_reason,
        projected=False,
    )


def _ending_at(window: Window, end_utc: datetime) -> Window:
    return Window(
        tz=window.tz,
        first_day=window.first_day,
        last_day=last_local_day(window.start_utc, end_utc, window.tz),
        start_utc=window.start_utc,
        end_utc=end_utc,
    )


def _assessment(
    protocol: ProtocolDefinition,
    *,
    code: str,
    anchor: str,
    sequence: int,
    instruments: tuple[str, ...],
    anchor_date: date,
    target_date: date | None,
    window: Window,
    end_reason: EndReason,
    projected: bool,
) -> PlannedAssessment:
    return PlannedAssessment(
        study_code=protocol.study_code,
        protocol_version=protocol.version,
        code=code,
        anchor=anchor,
        sequence=sequence,
        instruments=instruments,
        tz=window.tz,
        anchor_date=anchor_date,
        target_date=target_date,
        first_day=window.first_day,
        last_day=window.last_day,
        window_start_local=utc_to_local(window.start_utc, window.tz),
        window_end_local=utc_to_local(window.end_utc, window.tz),
        window_start_utc=window.start_utc,
        window_end_utc=window.end_utc,
        end_reason=end_reason,
        projected=projected,
    )


def _records_by_number(
    protocol: ProtocolDefinition, infusions: Sequence[InfusionRecord]
) -> dict[int, InfusionRecord]:
    records: dict[int, InfusionRecord] = {}
    for record in infusions:
        protocol.infusion(record.number)  # raises for a number the protocol does not define
        if record.number in records:
            raise ValueError(f"infusion {record.number} is recorded twice")
        records[record.number] = record
    return records


def _given_instants(
    records: dict[int, InfusionRecord], tz: str, enrolment_date: date
) -> dict[int, datetime]:
    """UTC instants of given infusions; they must follow enrolment and each other in order."""
    instants: dict[int, datetime] = {}
    for number, record in sorted(records.items()):
        if record.given_at_local is None:
            continue
        if record.given_at_local.date() < enrolment_date:
            raise ValueError(
                f"infusion {number} given on {record.given_at_local.date()},"
                f" before enrolment on {enrolment_date}"
            )
        instant = local_to_utc(record.given_at_local, tz)
        earlier = [n for n, at in instants.items() if at >= instant]
        if earlier:
            raise ValueError(
                f"infusion {number} given at {record.given_at_local},"
                f" not after infusion {earlier[0]}"
            )
        instants[number] = instant
    return instants
