"""Virtual visits: schedule, reschedule, cancel (each audited; messaging reacts to each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.local_time import local_to_utc, utc_to_local
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.schedule import events
from pro_server.schedule.models import Visit

MODES = ("phone", "video")


def view(v: Visit) -> dict[str, Any]:
    return {"starts_at": v.starts_at.isoformat(), "mode": v.mode, "status": v.status,
            "revision": v.revision, "duration_minutes": v.duration_minutes,
            "has_join_url": bool(v.join_url)}


def local_start(v: Visit) -> datetime:
    return utc_to_local(v.starts_at, v.participant.timezone)


def _start(ctx: ServiceContext, participant: Participant, starts_at_local: datetime) -> datetime:
    starts_at = local_to_utc(starts_at_local, participant.timezone)
    if starts_at <= ctx.now():
        raise InvalidInput.field("starts_at_local", "A visit must be scheduled in the future")
    return starts_at


def schedule_visit(ctx: ServiceContext, participant: Participant, *, starts_at_local: datetime,
                   mode: str, join_url: str | None = None, note: str | None = None,
                   duration_minutes: int = 30) -> Visit:
    if participant.status is not ParticipantStatus.enrolled:
        raise Conflict("Visits are scheduled for enrolled participants")
    now = ctx.now()
    visit = Visit(participant=participant, study_id=participant.study_id,
                  site_id=participant.site_id, starts_at=_start(ctx, participant, starts_at_local),
                  mode=mode, join_url=join_url, note=note, duration_minutes=duration_minutes,
                  status="scheduled", created_at=now, updated_at=now)
    ctx.session.add(visit)
    ctx.session.flush()
    record(ctx, "visit.schedule", "visit", visit.id, after=view(visit),
           study_id=visit.study_id, site_id=visit.site_id)
    events.visit_changed(ctx, visit, "scheduled")
    return visit


def reschedule_visit(ctx: ServiceContext, visit: Visit, *, starts_at_local: datetime,
                     reason: str, mode: str | None = None, join_url: str | None = None) -> Visit:
    if visit.status != "scheduled":
        raise Conflict(f"A {visit.status} visit cannot be rescheduled")
    before = view(visit)
    visit.starts_at = _start(ctx, visit.participant, starts_at_local)
    visit.mode = mode or visit.mode
    visit.join_url = join_url if join_url is not None else visit.join_url
    visit.revision += 1
    visit.updated_at = ctx.now()
    record(ctx, "visit.reschedule", "visit", visit.id, before=before, after=view(visit),
           reason=reason, study_id=visit.study_id, site_id=visit.site_id)
    events.visit_changed(ctx, visit, "rescheduled")
    return visit


def cancel_visit(ctx: ServiceContext, visit: Visit, *, reason: str) -> Visit:
    if visit.status != "scheduled":
        raise Conflict(f"The visit is already {visit.status}")
    before = view(visit)
    visit.status = "cancelled"
    visit.cancel_reason = reason
    visit.updated_at = ctx.now()
    record(ctx, "visit.cancel", "visit", visit.id, before=before, after=view(visit),
           reason=reason, study_id=visit.study_id, site_id=visit.site_id)
    events.visit_changed(ctx, visit, "cancelled")
    return visit
