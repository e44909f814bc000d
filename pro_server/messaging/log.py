"""The message log as staff read it: what happened (every status but pending), newest event
first; or what is still to go out (pending), soonest due first. Filters by status, purpose,
participant and date; a CSV of the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from pro_server.local_time import utc_to_local
from pro_server.messaging.error_meanings import error_meaning
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.purposes import MessageStatus
from pro_server.participants.models import Participant
from pro_server.spreadsheet_csv import to_csv


def log_query(query: Select, args: Mapping[str, Any]) -> tuple[Select, tuple[Any, ...]]:
    """`query` (outbox rows the caller may read) narrowed by the log's filters, and its order."""
    if "subject_key" in args:
        query = query.where(OutboxMessage.participant_id.in_(
            select(Participant.id).where(Participant.subject_key == args["subject_key"])))
    if args.get("upcoming"):
        at, order = OutboxMessage.due_at, (OutboxMessage.due_at, OutboxMessage.id)
        query = query.where(OutboxMessage.status == MessageStatus.PENDING.value)
    else:
        at = OutboxMessage.status_updated_at
        order = (OutboxMessage.status_updated_at.desc(), OutboxMessage.id.desc())
        query = query.where(OutboxMessage.status != MessageStatus.PENDING.value)
    if "since" in args:
        query = query.where(at >= args["since"])
    if "until" in args:
        query = query.where(at < args["until"])
    return query, order


def _local(at: datetime | None, tz: str) -> str:
    return "" if at is None else utc_to_local(at, tz).isoformat(timespec="minutes")


def log_csv(messages: Iterable[OutboxMessage]) -> str:
    """One line per message; times in the participant's zone; the text without its link."""
    return to_csv(
        ["event_at_local", "subject_key", "site", "channel", "purpose", "status",
         "error_code", "error_meaning", "status_reason", "attempts", "due_at_local",
         "sent_at_local", "delivered_at_local", "text"],
        ([_local(m.status_updated_at, m.participant.timezone), m.participant.subject_key,
          m.participant.site.code, m.channel, m.purpose, m.status, m.last_error_code,
          error_meaning(m.last_error_code), m.status_reason, m.attempts,
          _local(m.due_at, m.participant.timezone), _local(m.sent_at, m.participant.timezone),
          _local(m.delivered_at, m.participant.timezone), m.body_redacted]
         for m in messages))
