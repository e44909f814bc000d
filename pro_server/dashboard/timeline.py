"""One participant's story in time order: enrolment, infusions, survey windows, visits,
messages with their delivery status, what the participant did (link opened, survey started,
stopped at page N of M, sent), replies, data changes, withdrawal.

Each survey also carries its own facts in order (`ref.activity`: texts about it with their
delivery status, link opens during its window, start, where it stopped), so "why was it
missed?" reads as "text delivered 09:02, link opened 09:40, started, stopped at page 12"."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from pro_server.changes.models import ChangeRequest
from pro_server.context import ServiceContext
from pro_server.dashboard.cells import Cell
from pro_server.dashboard.grid import Scope, load_rows
from pro_server.local_time import local_to_utc
from pro_server.messaging.error_meanings import error_meaning
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.participant_web.engagement import Fact, facts
from pro_server.participants.models import Participant
from pro_server.protocol.planner import infusion_schedule
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


def _cells(ctx: ServiceContext, p: Participant) -> list[Cell]:
    scope = Scope(p.study, frozenset({p.site_id}), participant_id=p.id)
    rows = load_rows(ctx.session, scope, ctx.now(), grace(ctx))
    return list(rows[0].cells.values()) if rows else []


def _assessments(cells: list[Cell], activity: dict[int, list[dict[str, Any]]]
                 ) -> list[dict[str, Any]]:
    events = []
    for cell in cells:
        events.append(_event(
            cell.window_start, "assessment", f"Survey {cell.code}", cell.status,
            "expected from the planned infusion date" if cell.projected else (
                f"Missed: {cell.missed_reason}" if cell.missed_reason else None),
            all_day=True, code=cell.code, window_end=cell.window_end, first_day=cell.first_day,
            last_day=cell.last_day, completed_at=cell.completed_at, projected=cell.projected,
            label=cell.label, missed_reason=cell.missed_reason,
            activity=activity.get(cell.assessment_id or 0, [])))
    return events


def _text_fact(m: OutboxMessage) -> dict[str, Any] | None:
    """What became of a text, as the provider reported it: delivered (when), sent with no
    report (yet), sent but not delivered (a retry may be pending or have expired since), or
    refused before it was sent. Texts never attempted are not facts about the participant."""
    if m.channel != "sms":
        return None
    why = {"error_code": m.last_error_code, "error_meaning": error_meaning(m.last_error_code)}
    if m.status == "delivered" and m.delivered_at is not None:
        return {"what": "text_delivered", "at": m.delivered_at.isoformat()}
    if m.status == "sent" and m.sent_at is not None:
        return {"what": "text_sent", "at": m.sent_at.isoformat()}
    if m.sent_at is not None and m.last_error_code:
        return {"what": "text_not_delivered", "at": m.sent_at.isoformat(), **why}
    if m.status == "failed":
        return {"what": "text_failed", "at": m.status_updated_at.isoformat(), **why}
    return None


def _fact(f: Fact) -> dict[str, Any]:
    return {"what": f.what, "at": f.at.isoformat(), "page": f.page, "pages": f.pages,
            "review": f.review}


def _activity(cells: list[Cell], messages: list[OutboxMessage], done: list[Fact],
              grace_period: timedelta) -> dict[int, list[dict[str, Any]]]:
    """Per assessment, in time order: the texts about it with their outcome, the first link
    open during its window (and how many), its start, where it stopped or when it was sent."""
    opens = [f.at for f in done if f.what == "link_opened"]
    out: dict[int, list[dict[str, Any]]] = {}
    for cell in cells:
        if cell.assessment_id is None or cell.projected:
            continue
        found = [fact for m in messages if m.target_kind == "assessment"
                 and m.target_id == cell.assessment_id
                 and (fact := _text_fact(m)) is not None]
        during = [at for at in opens if cell.window_start <= at < cell.window_end + grace_period]
        if during:
            found.append({"what": "link_opened", "at": during[0].isoformat(),
                          "count": len(during)})
        found += [_fact(f) for f in done if f.assessment_id == cell.assessment_id]
        if found:
            out[cell.assessment_id] = sorted(found, key=lambda f: f["at"])
    return out


def _stopped_words(f: Fact) -> str:
    if f.review:
        where = "on the review page, not sent"
    elif f.page is not None:
        where = f"at page {f.page} of {f.pages}"
    else:
        where = "(page not recorded)"
    return f"Survey {f.code} stopped {where}"


ACTIVITY_TITLES = {"link_opened": lambda f: "Link opened",
                   "started": lambda f: f"Survey {f.code} started",
                   "stopped": _stopped_words,
                   "submitted": lambda f: f"Survey {f.code} sent"}


def _engagement(done: list[Fact], still_open: set[int]) -> list[dict[str, Any]]:
    return [_event(f.at, "activity", ACTIVITY_TITLES[f.what](f), None,
                   "still open" if f.what == "stopped" and f.assessment_id in still_open
                   else None, what=f.what, code=f.code, page=f.page, pages=f.pages)
            for f in done]


def _visits(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    return [_event(v.starts_at, "visit", f"Virtual visit by {v.mode}", v.status,
                   v.cancel_reason or v.note, visit_id=v.id, duration_minutes=v.duration_minutes)
            for v in ctx.session.scalars(
                select(Visit).where(Visit.participant_id == p.id).order_by(Visit.id))]


def _messages(ctx: ServiceContext, p: Participant,
              sent: list[OutboxMessage]) -> list[dict[str, Any]]:
    events = [
        _event(m.sent_at or m.due_at, "message",
               f"{m.channel.upper()} {m.purpose.replace('_', ' ')}", m.status,
               m.body_redacted or m.status_reason, message_id=m.id, attempts=m.attempts,
               error_code=m.last_error_code, error_meaning=error_meaning(m.last_error_code),
               status_reason=m.status_reason,
               needs_review=m.needs_review,
               delivered_at=m.delivered_at, status_at=m.status_updated_at)
        for m in sent
    ]
    events += [
        _event(r.received_at, "reply", f"Reply from participant ({r.kind.replace('_', ' ')})",
               "needs review" if r.needs_review else "received", r.body, message_id=r.id)
        for r in ctx.session.scalars(
            select(InboundMessage).where(InboundMessage.participant_id == p.id)
            .order_by(InboundMessage.id))
    ]
    return events


def _changes(ctx: ServiceContext, p: Participant) -> list[dict[str, Any]]:
    events = []
    for c in ctx.session.scalars(
            select(ChangeRequest).where(ChangeRequest.participant_id == p.id)
            .order_by(ChangeRequest.id)):
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
    cells = _cells(ctx, p)
    messages = list(ctx.session.scalars(
        select(OutboxMessage).where(OutboxMessage.participant_id == p.id)
        .order_by(OutboxMessage.id)))
    done = facts(ctx, p)
    still_open = {c.assessment_id for c in cells if c.status in ("open", "in_progress")
                  and c.assessment_id is not None}
    events += _assessments(cells, _activity(cells, messages, done, grace(ctx)))
    events += _engagement(done, still_open)
    events += _messages(ctx, p, messages)
    for part in (_infusions, _visits, _changes):
        events += part(ctx, p)
    return sorted(events, key=lambda e: (e["at"], e["kind"]))  # stable: ties keep row order
