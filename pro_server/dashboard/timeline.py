"""One participant's story in time order: enrolment, infusions, survey windows, visits,
messages with their delivery status, replies, data changes, withdrawal."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from pro_server.changes.models import ChangeRequest
from pro_server.context import ServiceContext
from pro_server.dashboard.grid import Scope, load_rows
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.participants.models import Participant
from pro_server.protocol.planner import infusion_schedule
from pro_server.protocol.windows import local_to_utc
from pro_server.schedule.assessments import grace, infusion_records, protocol_for
from pro_server.schedule.models import Visit


def _event(at: datetime, kind: str, title: str, status: str | None = None,
           detail: str | None = None, *, all_day: bool = False, **ref: Any) -> dict[str, Any]:
    ref = {k: v.isoformat() if isinstance(v, date) else v for k, v in ref.items()}
    return {"at": at, "all_day": all_day, "kind": kind, "title": title, "status": status,
            "detail": detail, "ref": ref}


def _day(day: date, tz: str) -> datetime:
    return local_to_utc(datetime.combine(day, time(0)), tz)


def _infusions(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    if p.protocol_version is None:
        return []
    events = []
    for s in infusion_schedule(protocol_for(p), infusion_records(ctx, p)):
        title = f"Infusion {s.number} ({s.label})"
        if s.status == "given" and s.given_at_local is not None:
            events.append(_event(local_to_utc(s.given_at_local, p.timezone), "infusion", title,
                                 "given", number=s.number))
        elif s.planned_date is not None:
            events.append(_event(_day(s.planned_date, p.timezone), "infusion", title, s.status,
                                 s.reason, all_day=True, number=s.number))
    return events


def _assessments(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    scope = Scope(p.study, frozenset({p.site_id}), participant_id=p.id)
    rows = load_rows(ctx.session, scope, ctx.now(), grace(ctx))
    events = []
    for cell in (rows[0].cells.values() if rows else ()):
        events.append(_event(
            cell.window_start, "assessment", f"Survey {cell.code}", cell.status,
            "expected from the planned infusion date" if cell.projected else (
                f"Missed: {cell.missed_reason}" if cell.missed_reason else None),
            all_day=True, code=cell.code, window_end=cell.window_end, first_day=cell.first_day,
            last_day=cell.last_day, completed_at=cell.completed_at, projected=cell.projected,
            label=cell.label, missed_reason=cell.missed_reason))
    return events


def _visits(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    return [_event(v.starts_at, "visit", f"Virtual visit by {v.mode}", v.status,
                   v.cancel_reason or v.note, visit_id=v.id, duration_minutes=v.duration_minutes)
            for v in ctx.session.scalars(select(Visit).where(Visit.participant_id == p.id))]


def _messages(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    events = [
        _event(m.sent_at or m.due_at, "message",
               f"{m.channel.upper()} {m.purpose.replace('_', ' ')}", m.status,
               m.body_redacted or m.status_reason, message_id=m.id, attempts=m.attempts,
               error_code=m.last_error_code, status_reason=m.status_reason,
               needs_review=m.needs_review,
               delivered_at=m.delivered_at)
        for m in ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.participant_id == p.id))
    ]
    events += [
        _event(r.received_at, "reply", f"Reply from participant ({r.kind.replace('_', ' ')})",
               "needs review" if r.needs_review else "received", r.body, message_id=r.id)
        for r in ctx.session.scalars(
            select(InboundMessage).where(InboundMessage.participant_id == p.id))
    ]
    return events


def _changes(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    events = []
    for c in ctx.session.scalars(
            select(ChangeRequest).where(ChangeRequest.participant_id == p.id)):
        what = f"{c.response.assessment.code} {c.instrument_code}, item {c.item_id}"
        events.append(_event(c.requested_at, "change", f"Change requested: {what}", "requested",
                             c.reason, change_id=c.id))
        if c.decided_at is not None:
            events.append(_event(c.decided_at, "change", f"Change {c.status}: {what}", c.status,
                                 c.decision_reason, change_id=c.id))
    return events


def timeline(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    events = []
    if p.enrolled_on is not None:
        events.append(_event(_day(p.enrolled_on, p.timezone), "enrolment", "Enrolled",
                             all_day=True))
    if p.withdrawn_at is not None:
        events.append(_event(p.withdrawn_at, "withdrawal", "Withdrawn", None,
                             p.withdrawal_reason))
    for part in (_infusions, _assessments, _visits, _messages, _changes):
        events += part(ctx, p)
    return sorted(events, key=lambda e: (e["at"], e["kind"]))
