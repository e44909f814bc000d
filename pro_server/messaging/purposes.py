"""Vocabulary shared by the outbox, the dispatcher and the webhooks: purposes, target kinds,
outbox statuses, and the forward-only order of delivery statuses (the channels a message
takes are participants.reminder_channels.Channel)."""

from __future__ import annotations

from enum import StrEnum


class TargetKind(StrEnum):
    ASSESSMENT = "assessment"
    VISIT = "visit"
    # Replies to inbound messages (HELP, STOP/START confirmations) concern the participant.
    PARTICIPANT = "participant"


class Purpose(StrEnum):
    WINDOW_OPENED = "window_opened"
    SURVEY_REMINDER = "survey_reminder"
    LAST_DAY = "last_day"
    VISIT_REMINDER_24H = "visit_reminder_24h"
    VISIT_REMINDER_1H = "visit_reminder_1h"
    VISIT_CHANGED = "visit_changed"
    VISIT_CANCELLED = "visit_cancelled"
    HELP_REPLY = "help_reply"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"


SURVEY_PURPOSES = frozenset({Purpose.WINDOW_OPENED, Purpose.SURVEY_REMINDER, Purpose.LAST_DAY})
VISIT_PURPOSES = frozenset(
    {
        Purpose.VISIT_REMINDER_24H,
        Purpose.VISIT_REMINDER_1H,
        Purpose.VISIT_CHANGED,
        Purpose.VISIT_CANCELLED,
    }
)
REPLY_PURPOSES = frozenset(
    {Purpose.HELP_REPLY, Purpose.OPT_OUT_CONFIRMATION, Purpose.OPT_IN_CONFIRMATION}
)
# Not suppressed by the service's own opt-out flag: the one confirmation FCC 24-18 allows
# after an opt-out keyword Twilio does not handle itself (see keywords.is_twilio_default_keyword),
# and the answer to HELP. Everything else is suppressed once the participant opted out.
SENT_DESPITE_OPT_OUT = frozenset({Purpose.OPT_OUT_CONFIRMATION, Purpose.HELP_REPLY})


def target_kind_for(purpose: Purpose | str) -> TargetKind:
    purpose = Purpose(purpose)
    if purpose in SURVEY_PURPOSES:
        return TargetKind.ASSESSMENT
    if purpose in VISIT_PURPOSES:
        return TargetKind.VISIT
    return TargetKind.PARTICIPANT


class MessageStatus(StrEnum):
    """Status of an outbox row."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by the dispatcher, provider call in progress
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # target completed/cancelled/rescheduled before sending
    SUPPRESSED = "suppressed"  # not sent on purpose: opted out, expired, invalid number
    NOT_SENT = "not_sent"  # the service runs without SMS (SMS_BACKEND=none)


# Rank in the forward order. Twilio's statuses and the outbox's share one scale so that a
# callback can be applied to either. Equal ranks do not replace each other.
_RANK: dict[str, int] = {
    "pending": 0,
    "scheduled": 1,
    "queued": 1,
    "accepted": 1,
    "sending": 2,
    "sent": 3,
}
TERMINAL_STATUSES = frozenset(
    {
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",  # Twilio's spelling (scheduled message cancelled)
        "cancelled",
        "suppressed",
        "not_sent",
    }
)
_TERMINAL_RANK = 4

# Twilio message status -> outbox status. Statuses not listed (receiving, received,
# partially_delivered) do not concern outbound SMS and are ignored.
_PROVIDER_TO_OUTBOX: dict[str, MessageStatus] = {
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "accepted": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.CANCELLED,
}


def delivery_rank(status: str) -> int | None:
    """Position of ``status`` in the forward order, or None if it is not a delivery status."""
    status = status.strip().lower()
    if status in TERMINAL_STATUSES:
        return _TERMINAL_RANK
    return _RANK.get(status)


def is_terminal(status: str) -> bool:
    return status.strip().lower() in TERMINAL_STATUSES


def monotonic_next(current: str, incoming: str | None) -> str:
    """The status after applying ``incoming`` to ``current``; never moves backwards.

    Order: pending < queued/accepted/scheduled < sending < sent < terminal
    (delivered, undelivered, failed, read, canceled/cancelled, suppressed). A terminal
    status is never replaced, an equal or lower rank is ignored, and an unknown or empty
    ``incoming`` leaves ``current`` unchanged, which makes repeated or out-of-order
    callbacks harmless. Works on Twilio statuses or outbox statuses; for an outbox row use
    ``monotonic_next(row.status, outbox_status_from_provider(callback_status))``. The
    dispatcher should apply its own "sent" after the create call the same way, because a
    fast callback may have arrived first.
    """
    if incoming is None:
        return current
    current_rank = delivery_rank(current)
    incoming_rank = delivery_rank(incoming)
    if incoming_rank is None:
        return current
    if current_rank is None:
        return incoming.strip().lower()
    if current_rank >= _TERMINAL_RANK or incoming_rank <= current_rank:
        return current
    return incoming.strip().lower()


def outbox_status_from_provider(provider_status: str | None) -> MessageStatus | None:
    """Map a Twilio message status to the outbox status it implies (None: not applicable)."""
    if not provider_status:
        return None
    return _PROVIDER_TO_OUTBOX.get(provider_status.strip().lower())
