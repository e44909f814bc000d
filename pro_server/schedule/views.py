"""How schedules look from outside: local and UTC times side by side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pro_server.context import ServiceContext
from pro_server.local_time import utc_to_local
from pro_server.participants.models import Participant
from pro_server.protocol.planner import infusion_schedule, project_calendar
from pro_server.schedule.assessments import (
    assessments_of,
    grace,
    infusion_records,
    protocol_for,
)
from pro_server.schedule.models import Assessment, Visit


def _local(instant: datetime | None, tz: str) -> str | None:
    return None if instant is None else utc_to_local(instant, tz).isoformat()


def assessment_view(a: Assessment, now: datetime, grace_period: timedelta) -> dict[str, Any]:
    return {
        "id": a.id, "code": a.code, "sequence": a.sequence, "anchor": a.anchor,
        "protocol_version": a.protocol_version, "instruments": list(a.instruments),
        "status": a.status_at(now, grace_period),
        "timezone": a.timezone, "first_day": a.first_day, "last_day": a.last_day,
        "window_start_local": _local(a.window_start, a.timezone),
        "window_end_local": _local(a.window_end, a.timezone),
        "window_start_utc": a.window_start, "window_end_utc": a.window_end,
        "started_at": a.started_at, "completed_at": a.completed_at,
        "cancelled_at": a.cancelled_at, "cancel_reason": a.cancel_reason,
    }


def visit_view(v: Visit) -> dict[str, Any]:
    return {
        "id": v.id, "starts_at_utc": v.starts_at,
        "starts_at_local": _local(v.starts_at, v.participant.timezone),
        "timezone": v.participant.timezone, "duration_minutes": v.duration_minutes,
        "mode": v.mode, "join_url": v.join_url, "note": v.note, "status": v.status,
        "revision": v.revision, "cancel_reason": v.cancel_reason,
    }


def schedule_view(ctx: ServiceContext, p: Participant, visits: list[Visit]) -> dict[str, Any]:
    now = ctx.now()
    protocol = protocol_for(p)
    records = infusion_records(ctx, p)
    projected = []
    if p.enrolled_on is not None:
        projected = [
            {"code": a.code, "first_day": a.first_day, "last_day": a.last_day,
             "window_start_local": a.window_start_local.isoformat(),
             "window_end_local": a.window_end_local.isoformat(),
             "window_start_utc": a.window_start_utc, "window_end_utc": a.window_end_utc,
             "instruments": list(a.instruments)}
            for a in project_calendar(protocol, p.timezone, p.enrolled_on, records)
            if a.projected
        ]
    return {
        "participant_id": p.id, "subject_key": p.subject_key, "timezone": p.timezone,
        "protocol_version": p.protocol_version,
        "infusions": [
            {"number": s.number, "label": s.label, "status": s.status,
             "protocol_date": s.protocol_date, "planned_date": s.planned_date,
             "given_at_local": s.given_at_local.isoformat() if s.given_at_local else None,
             "reason": s.reason}
            for s in infusion_schedule(protocol, records)
        ],
        "assessments": [assessment_view(a, now, grace(ctx)) for a in assessments_of(ctx, p)],
        "projected": projected,
        "visits": [visit_view(v) for v in visits],
    }
