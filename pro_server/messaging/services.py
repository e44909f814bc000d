"""What staff do to messages, each audited in the same transaction."""

from __future__ import annotations

from typing import Any

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.messaging import outbox, outcomes, sms_state
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.messaging.purposes import MessageStatus
from pro_server.participants.models import Participant
from pro_server.participants.reminder_channels import Channel

# For a message interrupted mid-send (`sending`): what staff found at the provider.
OUTCOMES = ("sent", "not_sent", "resend")


def _view(m: OutboxMessage) -> dict[str, Any]:
    return {"status": m.status, "needs_review": m.needs_review, "dedup_key": m.dedup_key}


def resolve_message(ctx: ServiceContext, m: OutboxMessage, reason: str,
                    outcome: str | None = None) -> OutboxMessage:
    """Mark a review item handled; for an interrupted send, say what became of it."""
    if not m.needs_review:
        raise Conflict("This message is not waiting for review")
    interrupted = m.status == MessageStatus.SENDING.value
    if interrupted and outcome is None:
        raise InvalidInput.field("outcome", "Say whether the provider sent it: "
                                 + ", ".join(OUTCOMES))
    if outcome is not None and not interrupted:
        raise InvalidInput.field("outcome", "Only for a message interrupted while sending")
    before = _view(m)
    now = ctx.now()
    if outcome == "sent":
        outcomes.mark_sent(ctx, m, m.provider_message_id, "confirmed sent by staff")
    elif outcome == "not_sent":
        outcomes.finish(ctx, m, MessageStatus.FAILED, "not sent (checked by staff)")
    elif outcome == "resend":
        m.status = MessageStatus.PENDING
        m.outcome_unknown = False
        m.next_attempt_at = now
        m.status_reason = "to be sent again (staff checked the provider)"
        m.status_updated_at = now
    m.needs_review = False
    m.reviewed_at = now
    m.reviewed_by = ctx.actor.label
    m.updated_at = now
    record(ctx, "message.resolve", "outbox_message", m.id, before=before,
           after={**_view(m), "outcome": outcome}, reason=reason,
           study_id=m.study_id, site_id=m.site_id)
    return m


def resolve_inbound(ctx: ServiceContext, m: InboundMessage, reason: str,
                    apply_opt_out: bool = False) -> InboundMessage:
    """Mark a flagged reply handled; `apply_opt_out` when it was a request to stop texting."""
    if not m.needs_review:
        raise Conflict("This reply is not waiting for review")
    if apply_opt_out:
        if m.participant is None:
            raise InvalidInput.field("apply_opt_out", "The sender is not a known participant")
        sms_state.opt_out(ctx, m.participant, "staff, after reading a reply")
    m.needs_review = False
    m.reviewed_at = ctx.now()
    m.reviewed_by = ctx.actor.label
    m.review_note = reason
    record(ctx, "inbound_message.resolve", "inbound_message", m.id,
           before={"needs_review": True, "kind": m.kind},
           after={"needs_review": False, "opt_out_applied": apply_opt_out}, reason=reason,
           study_id=m.study_id, site_id=m.site_id)
    return m


def remind_now(ctx: ServiceContext, p: Participant, reason: str | None = None
               ) -> tuple[list[OutboxMessage], str | None]:
    """Queue a reminder for the open survey now (opt-out and quiet hours still apply);
    returns the rows and why the SMS will not go, if known already."""
    rows = outbox.queue_remind_now(ctx, p)
    sms = next((r for r in rows if r.channel == Channel.SMS.value), None)
    blocked = sms_state.sms_block_reason(p, sms.purpose) if sms else None
    record(ctx, "message.remind_now", "participant", p.id,
           after={"messages": [r.dedup_key for r in rows], "sms_blocked": blocked},
           reason=reason, study_id=p.study_id, site_id=p.site_id)
    return rows, blocked
