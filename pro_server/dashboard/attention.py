"""The attention list: what a coordinator should act on today, most urgent first.

Each item names the participant, what happened, when, and the next step. Kinds:
surveys closing within 48 hours and not done, every missed or stalled survey whose reason is
not recorded yet (however old, oldest first), texts that failed or were not delivered,
participants who opted out of texts or whose number is invalid, messages left for review
after a crash, and replies that may mean "stop".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pro_server.dashboard.grid import Scope
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.status import derive_status
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site

CLOSING_WITHIN = timedelta(hours=48)
MESSAGES_SINCE = timedelta(days=7)

# Kind, heading, next step; the order is the order of urgency.
KINDS: dict[str, tuple[str, str]] = {
    "closing_soon": ("Survey window closing within 48 hours",
                     "Call or send a reminder now"),
    "message_review": ("Message left for review after an interruption",
                       "Check whether it went out, then resolve it"),
    "possible_opt_out": ("Reply that may mean stop",
                         "Read the reply and confirm with the participant"),
    "message_failed": ("Text failed or not delivered",
                       "Check the number; call the participant"),
    "invalid_number": ("Phone number flagged as invalid",
                       "Correct the number on the participant page"),
    "opted_out": ("Opted out of texts",
                  "Reach them by phone; ask at the next visit whether texts may resume"),
    "missed": ("Survey missed, no reason recorded",
               "Find out why with the participant, then record the reason"),
}


@dataclass(frozen=True)
class Item:
    kind: str
    participant_id: int
    subject_key: str
    site_code: str
    timezone: str
    at: datetime | None
    detail: str
    assessment_code: str | None = None
    message_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        heading, action = KINDS[self.kind]
        return {**asdict(self), "heading": heading, "action": action}


def _item(kind: str, who: Any, at: datetime | None, detail: str, **extra: Any) -> Item:
    """An item about the participant in `who` (a row with the columns of `_people`)."""
    return Item(kind, who.participant_id, who.subject_key, who.site_code, who.timezone, at,
                detail, **extra)


def _people(scope: Scope):
    return (select(Participant.id.label("participant_id"), Participant.subject_key,
                   Participant.timezone, Site.code.label("site_code"))
            .join(Site, Site.id == Participant.site_id)
            .where(Participant.study_id == scope.study.id,
                   Participant.site_id.in_(scope.site_ids)))


def _survey_items(session: Session, scope: Scope, now: datetime, grace: timedelta) -> list[Item]:
    query = _people(scope).add_columns(
        Assessment.code, Assessment.window_start, Assessment.window_end, Assessment.started_at,
    ).join(Assessment, Assessment.participant_id == Participant.id).where(
        Participant.status == ParticipantStatus.enrolled,
        Assessment.cancelled_at.is_(None), Assessment.completed_at.is_(None),
        Assessment.missed_reason.is_(None), Assessment.window_end <= now + CLOSING_WITHIN)
    items = []
    for a in session.execute(query):
        status = derive_status(a.window_start, a.window_end, now, started_at=a.started_at,
                               grace=grace)
        if status in ("open", "in_progress"):
            # A started survey may be finished within the grace period after the window.
            closes = a.window_end if now < a.window_end else a.window_end + grace
            hours = max(1, round((closes - now).total_seconds() / 3600))
            started = "started, not finished; " if status == "in_progress" else ""
            items.append(_item("closing_soon", a, closes,
                               f"{a.code}: {started}closes in {hours} h", assessment_code=a.code))
            continue
        missed_at = a.window_end + (grace if a.started_at else timedelta(0))
        if status == "missed":
            how = "started but not finished" if a.started_at else "not answered"
            items.append(_item("missed", a, missed_at, f"{a.code}: {how}",
                               assessment_code=a.code))
    return items


def _contact_items(session: Session, scope: Scope) -> list[Item]:
    query = _people(scope).add_columns(Participant.sms_opted_out_at, Participant.phone_flag).where(
        Participant.status == ParticipantStatus.enrolled,
        or_(Participant.sms_opted_out_at.is_not(None), Participant.phone_flag.is_not(None)))
    items = []
    for p in session.execute(query):
        if p.phone_flag:
            flag = p.phone_flag.replace("_", " ")
            items.append(_item("invalid_number", p, None, f"Number flagged: {flag}"))
        if p.sms_opted_out_at:
            items.append(_item("opted_out", p, p.sms_opted_out_at,
                               "No texts are sent to this participant"))
    return items


def _message_items(session: Session, scope: Scope, now: datetime) -> list[Item]:
    """Texts that failed or bounced lately, rows left for review, replies that may mean stop."""
    people = _people(scope).subquery()
    items = []
    outbox = session.execute(
        select(people, OutboxMessage.id, OutboxMessage.purpose, OutboxMessage.status,
               OutboxMessage.status_reason, OutboxMessage.last_error_code,
               OutboxMessage.needs_review, OutboxMessage.review_reason,
               OutboxMessage.status_updated_at)
        .join(OutboxMessage, OutboxMessage.participant_id == people.c.participant_id)
        .where(OutboxMessage.reviewed_at.is_(None), or_(
            OutboxMessage.needs_review,  # as its partial index says it (IS TRUE would not use it)
            OutboxMessage.status.in_(("failed", "undelivered"))
            & (OutboxMessage.status_updated_at > now - MESSAGES_SINCE))))
    for m in outbox:
        what = m.purpose.replace("_", " ")
        if m.needs_review:
            items.append(_item("message_review", m, m.status_updated_at,
                               f"{what}: {m.review_reason or m.status}", message_id=m.id))
        else:
            why = m.last_error_code or m.status_reason
            items.append(_item("message_failed", m, m.status_updated_at,
                               f"{what} {m.status}" + (f" ({why})" if why else ""),
                               message_id=m.id))
    replies = session.execute(
        select(people, InboundMessage.id, InboundMessage.received_at)
        .join(InboundMessage, InboundMessage.participant_id == people.c.participant_id)
        .where(InboundMessage.kind == "possible_opt_out", InboundMessage.needs_review.is_(True)))
    for r in replies:
        items.append(_item("possible_opt_out", r, r.received_at,
                           "Free-text reply flagged as a possible opt-out", message_id=r.id))
    return items


def attention_items(session: Session, scope: Scope, now: datetime,
                    grace: timedelta) -> list[Item]:
    items = (_survey_items(session, scope, now, grace) + _contact_items(session, scope)
             + _message_items(session, scope, now))
    order = list(KINDS)
    return sorted(items, key=lambda i: (
        order.index(i.kind),
        # Closing soonest first, the oldest gap first; everything else newest first.
        (i.at or now).timestamp() * (1 if i.kind in ("closing_soon", "missed") else -1),
        i.subject_key))
