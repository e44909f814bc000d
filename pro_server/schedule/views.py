"""How schedules look from outside: local and UTC times side by side.

The schemas in `schedule.schemas` dump these reads (and the planner's own objects for
infusions and projected windows); no route builds a dict of fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pro_server.context import ServiceContext
from pro_server.local_time import utc_to_local
from pro_server.participants.models import Participant
from pro_server.protocol.planner import (
    PlannedAssessment,
    ScheduledInfusion,
    infusion_schedule,
    project_calendar,
)
from pro_server.protocol.status import AssessmentStatus
from pro_server.schedule.assessments import (
    assessments_of,
    grace,
    infusion_records,
    protocol_for,
)
from pro_server.schedule.models import Assessment, Visit
from pro_server.view_model import Read


def _local(instant: datetime | None, tz: str) -> datetime | None:
    return None if instant is None else utc_to_local(instant, tz)


@dataclass(frozen=True)
class AssessmentRead(Read):
    """An assessment with its status at the time of reading."""

    model: Assessment
    status: AssessmentStatus

    @property
    def window_start_local(self) -> datetime | None:
        return _local(self.model.window_start, self.model.timezone)

    @property
    def window_end_local(self) -> datetime | None:
        return _local(self.model.window_end, self.model.timezone)

    @property
    def window_start_utc(self) -> datetime:
        return self.model.window_start

    @property
    def window_end_utc(self) -> datetime:
        return self.model.window_end


@dataclass(frozen=True)
class VisitRead(Read):
    model: Visit

    @property
    def timezone(self) -> str:
        return self.model.participant.timezone

    @property
    def starts_at_local(self) -> datetime | None:
        return _local(self.model.starts_at, self.timezone)


@dataclass(frozen=True)
class ScheduleRead(Read):
    """A participant's schedule: infusions, assessments, windows still to come, visits."""

    model: Participant
    infusions: Sequence[ScheduledInfusion]
    assessments: list[AssessmentRead]
    projected: list[PlannedAssessment]
    visits: list[VisitRead]


def schedule_read(ctx: ServiceContext, p: Participant, visits: list[Visit]) -> ScheduleRead:
    now = ctx.now()
    protocol = protocol_for(p)
    records = infusion_records(ctx, p)
    projected = []
    if p.enrolled_on is not None:
        projected = [a for a in project_calendar(protocol, p.timezone, p.enrolled_on, records)
                     if a.projected]
    late = grace(ctx)
    return ScheduleRead(
        p,
        infusions=infusion_schedule(protocol, records),
        assessments=[AssessmentRead(a, a.status_at(now, late)) for a in assessments_of(ctx, p)],
        projected=projected,
        visits=[VisitRead(v) for v in visits],
    )
