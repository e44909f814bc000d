"""What Twilio tells the service: delivery reports and replies (no Flask here; the
signature is checked by the webhook routes before anything reaches this module)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import case, select

from pro_server.context import Actor, ServiceContext
from pro_server.messaging import outbox, outcomes, sms_state
from pro_server.messaging.keywords import InboundKind, classify_inbound, is_twilio_default_keyword
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.messaging.provider_errors import ErrorPolicy
from pro_server.messaging.purposes import (
    MessageStatus,
    Purpose,
    monotonic_next,
    outbox_status_from_provider,
)
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.validation import mask_phone

REVIEW_KINDS = frozenset({InboundKind.POSSIBLE_OPT_OUT, InboundKind.OTHER})
_FAILED = frozenset({MessageStatus.UNDELIVERED.value, MessageStatus.FAILED.value})


def parse_int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _find(ctx: ServiceContext, sid: str, message_id: int | None, attempt: int | None
          ) -> OutboxMessage | None:
    """The row a report is about. The callback URL names the row and attempt, so a report
    that arrives before the send call returned, or after it timed out (no provider id
    stored), still finds it; a report about an earlier attempt of a retried row does not."""
    if message_id is not None:
        row = ctx.session.get(OutboxMessage, message_id, with_for_update=True)
        if row is None or row.provider_message_id == sid:
            return row
        unanswered = row.status == MessageStatus.SENDING.value or row.outcome_unknown
        if row.provider_message_id is None and attempt == row.attempts and unanswered:
            return row
        return None
    return ctx.session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_message_id == sid)
        .with_for_update())


def record_status(ctx: ServiceContext, form: Mapping[str, str], *, message_id: int | None,
                  attempt: int | None, policy: ErrorPolicy) -> str:
    """Apply a status callback; repeated or late reports change nothing. Returns what
    happened (for the log)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    reported = form.get("MessageStatus") or form.get("SmsStatus")
    row = _find(ctx, sid, message_id, attempt) if sid else None
    if row is None:
        return "unknown message"
    new = monotonic_next(row.status, outbox_status_from_provider(reported))
    if new == row.status:
        return f"unchanged ({row.status})"
    now = ctx.now()
    row.provider_message_id = row.provider_message_id or sid
    row.status = MessageStatus(new)
    row.status_updated_at = now
    row.updated_at = now
    row.next_attempt_at = None
    row.outcome_unknown = False
    if new in (MessageStatus.SENT.value, MessageStatus.DELIVERED.value):
        row.sent_at = row.sent_at or now
        # A row rescued by its report (the send call had timed out): the failure is moot.
        row.last_error_code = row.last_error_message = None
        row.status_reason = None
        row.claimed_by = row.lease_until = None
    if new == MessageStatus.DELIVERED.value:
        row.delivered_at = now
    if new in _FAILED:
        outcomes.apply_provider_error(ctx, row, policy, code=parse_int(form.get("ErrorCode")),
                                      message=f"reported {new}",
                                      reported=MessageStatus(new))
    return row.status


def _senders(ctx: ServiceContext, lookup: str) -> list[Participant]:
    """Participants with this number, enrolled ones first, then the most recent."""
    return list(ctx.session.scalars(
        select(Participant).where(Participant.phone_lookup == lookup).order_by(
            case((Participant.status == ParticipantStatus.enrolled, 0), else_=1),
            Participant.id.desc())
    ))


def receive(ctx: ServiceContext, form: Mapping[str, str]) -> InboundMessage | None:
    """Store an inbound SMS once (by its provider id) and act on STOP/START/HELP; free
    text is left for staff. Returns None for a repeated delivery."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
    if not sid or ctx.session.scalar(
            select(InboundMessage.id).where(InboundMessage.provider_message_id == sid)):
        return None
    body = form.get("Body") or ""
    sender = (form.get("From") or "").strip()
    lookup = ctx.settings.keyring.lookup_hash(sender)
    people = _senders(ctx, lookup)
    first = people[0] if people else None
    kind = classify_inbound(body)
    message = InboundMessage(
        participant_id=first.id if first else None, study_id=first.study_id if first else None,
        site_id=first.site_id if first else None, from_lookup=lookup,
        from_masked=(mask_phone(sender) or "")[:32] or None, body=body,
        kind=kind.value, provider_message_id=sid, received_at=ctx.now(),
        needs_review=kind in REVIEW_KINDS or first is None,
    )
    ctx.session.add(message)
    ctx.session.flush()
    twilio_answered = is_twilio_default_keyword(body)
    source = f"SMS reply {' '.join(body.split())[:20]!r}"
    for p in people:
        as_participant = dataclasses.replace(
            ctx, actor=Actor(type="participant", id=str(p.id), label="SMS reply"))
        if kind is InboundKind.STOP:
            sms_state.opt_out(as_participant, p, source)
        elif kind is InboundKind.START:
            sms_state.opt_in(as_participant, p, source)
    if first is not None:
        # Twilio answers its own keywords (STOP, START...); the others get ours, once.
        reply = {
            InboundKind.HELP: Purpose.HELP_REPLY,
            InboundKind.STOP: None if twilio_answered else Purpose.OPT_OUT_CONFIRMATION,
            InboundKind.START: None if twilio_answered else Purpose.OPT_IN_CONFIRMATION,
        }.get(kind)
        if reply is not None:
            outbox.queue_reply(ctx, first, reply, message.id)
    return message
