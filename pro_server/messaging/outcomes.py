"""What happens to an outbox row after an attempt: sent, retried later, given up, or
stopped for a reason staff can read. Shared by the dispatcher (answers to the send call)
and the status callback (delivery failures reported later)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, update

from pro_server.context import ServiceContext
from pro_server.messaging import sms_state
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.planning import quiet_hours
from pro_server.messaging.policy import policy_for
from pro_server.messaging.provider_errors import ErrorAction, ErrorPolicy, ErrorRule
from pro_server.messaging.purposes import REPLY_PURPOSES, MessageStatus, Purpose, monotonic_next
from pro_server.participants.reminder_channels import Channel

TIMEOUT_CODE = "provider_timeout"


def finish(ctx: ServiceContext, row: OutboxMessage, status: MessageStatus, reason: str | None,
           *, review: str | None = None) -> None:
    """Put the row in a final status (or `sending` left alone) with the reason staff see."""
    now = ctx.now()
    row.status = status
    row.status_reason = reason[:300] if reason else None
    row.status_updated_at = now
    row.updated_at = now
    row.next_attempt_at = None
    if review:
        row.needs_review = True
        row.review_reason = review[:500]


def mark_sent(ctx: ServiceContext, row: OutboxMessage, provider_id: str | None,
              note: str | None = None) -> None:
    now = ctx.now()
    if row.provider_message_id is None:
        row.provider_message_id = provider_id
    new = monotonic_next(row.status, MessageStatus.SENT.value)
    if new != row.status:
        row.status = MessageStatus(new)
        row.status_updated_at = now
    row.sent_at = row.sent_at or now
    row.next_attempt_at = None
    row.outcome_unknown = False
    if row.last_error_code == TIMEOUT_CODE:  # the timed-out attempt's outcome is known now
        row.last_error_code = row.last_error_message = None
    row.status_reason = note
    row.claimed_by = row.lease_until = None
    row.updated_at = now


def record_sent(ctx: ServiceContext, row_id: int, provider_id: str | None,
                note: str | None = None) -> None:
    """`mark_sent` as one UPDATE (the dispatcher's hot path). A status callback may have
    come first: only a row still `sending` becomes `sent`, and its provider id stays."""
    now = ctx.now()
    sending = OutboxMessage.status == MessageStatus.SENDING.value
    # Found at the provider after a timeout: the timed-out attempt's outcome is known now.
    timed_out = OutboxMessage.last_error_code == TIMEOUT_CODE
    ctx.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(
            provider_message_id=func.coalesce(OutboxMessage.provider_message_id, provider_id),
            status=case((sending, MessageStatus.SENT.value), else_=OutboxMessage.status),
            status_updated_at=case((sending, now), else_=OutboxMessage.status_updated_at),
            sent_at=func.coalesce(OutboxMessage.sent_at, now),
            next_attempt_at=None, outcome_unknown=False, status_reason=note, updated_at=now,
            claimed_by=None, lease_until=None,
            last_error_code=case((timed_out, None), else_=OutboxMessage.last_error_code),
            last_error_message=case((timed_out, None), else_=OutboxMessage.last_error_message),
        ).execution_options(synchronize_session=False)
    )


def later_allowed(row: OutboxMessage, at: datetime) -> datetime:
    """`at`, moved out of the participant's quiet hours for a message that reaches their
    phone (SMS, push) and is not a reply."""
    if row.channel == Channel.WEB.value or Purpose(row.purpose) in REPLY_PURPOSES:
        return at
    p = row.participant
    return quiet_hours(policy_for(p)).next_allowed(at, p.timezone)


def retry_or_give_up(ctx: ServiceContext, row: OutboxMessage, rule: ErrorRule,
                     policy: ErrorPolicy, what: str,
                     final: MessageStatus = MessageStatus.FAILED) -> None:
    """Back to `pending` for another attempt (backoff with jitter, out of quiet hours),
    or failed and shown to staff when the attempts are used up or the event has passed."""
    now = ctx.now()
    later = policy.next_attempt_at(rule, row.attempts, now)
    if later is None:
        finish(ctx, row, final, f"gave up after {row.attempts} attempts: {what}",
               review=f"Not sent after {row.attempts} attempts ({what}).")
        return
    later = later_allowed(row, later)
    if row.expires_at is not None and later >= row.expires_at:
        # Never sent: suppressed. Reported undelivered: stays so, with the reason.
        stop = MessageStatus.SUPPRESSED if final is MessageStatus.FAILED else final
        finish(ctx, row, stop, f"{what}; a retry would arrive after the event it is about")
        return
    row.status = MessageStatus.PENDING
    row.provider_message_id = None  # a new attempt; the old one's reports no longer apply
    row.status_reason = f"attempt {row.attempts} failed ({what}); retrying"[:300]
    row.next_attempt_at = later
    row.status_updated_at = now
    row.updated_at = now


def apply_provider_error(ctx: ServiceContext, row: OutboxMessage, policy: ErrorPolicy, *,
                         code: int | None, http_status: int | None = None,
                         network: bool = False, message: str = "",
                         reported: MessageStatus | None = None) -> None:
    """Act on an error from the send call, or (`reported`: undelivered/failed) from a
    delivery report, following the configurable map of error codes."""
    rule = policy.classify(code=code, http_status=http_status, network=network)
    label = (f"Twilio {code}" if code else f"HTTP {http_status}" if http_status
             else "network error" if network else "provider error")
    row.last_error_code = str(code or http_status or ("network" if network else "error"))
    row.last_error_message = f"{label}: {message}"[:500] if message else label
    p = row.participant
    if rule.action is ErrorAction.OPTED_OUT:
        sms_state.opt_out(ctx, p, f"provider refused: the number opted out ({label})")
        finish(ctx, row, reported or MessageStatus.SUPPRESSED,
               f"participant opted out at the provider ({label})",
               review="The participant's number opted out at the carrier; all SMS stopped.")
    elif rule.action is ErrorAction.INVALID_NUMBER:
        sms_state.flag_phone(ctx, p, "invalid_number", label)
        finish(ctx, row, reported or MessageStatus.FAILED, f"phone number unusable ({label})",
               review=f"The phone number cannot receive SMS ({label}); check it with the "
                      "participant.")
    elif rule.retryable:
        retry_or_give_up(ctx, row, rule, policy, label, final=reported or MessageStatus.FAILED)
    else:
        finish(ctx, row, reported or MessageStatus.FAILED, f"not delivered ({label})",
               review=f"The message was not delivered ({row.last_error_message}).")
