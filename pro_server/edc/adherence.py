"""The adherence dataset: one row per assessment window (no Flask).

Reminder counts are the SMS reminders of each window (channel `sms`, any purpose about the
assessment): sent means handed to the provider, delivered means the carrier confirmed it.
Web reminders are the participant page's own list, not messages, so they are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from pro_server.local_time import utc_to_local
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.purposes import MessageStatus, TargetKind
from pro_server.participants.models import Participant
from pro_server.participants.reminder_channels import Channel
from pro_server.protocol.status import derive_status
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site

SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED)
DELIVERED = (MessageStatus.DELIVERED,)
COUNT_BATCH = 500
HEADER = (
    "subject_key", "site", "assessment", "protocol_version", "timezone",
    "window_open_local", "window_open_utc", "window_close_local", "window_close_utc",
    "status", "completed_at_local", "completed_at_utc", "late_by_hours",
    "reminders_sent", "reminders_delivered",
)


def assessment_query(study_id: int) -> Select:
    return (select(Assessment.id, Assessment.code, Assessment.protocol_version,
                   Assessment.timezone, Assessment.window_start, Assessment.window_end,
                   Assessment.started_at, Assessment.completed_at, Assessment.cancelled_at,
                   Participant.subject_key, Site.code.label("site_code"))
            .join(Participant, Participant.id == Assessment.participant_id)
            .join(Site, Site.id == Assessment.site_id)
            .where(Assessment.study_id == study_id)
            .order_by(Participant.subject_key, Assessment.sequence))


def reminder_counts(session: Session, assessment_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(SMS sent, SMS delivered) per assessment id that has any SMS."""
    ids = [int(i) for i in assessment_ids]
    if not ids:
        return {}
    sent = func.sum(case((OutboxMessage.status.in_(SENT), 1), else_=0))
    delivered = func.sum(case((OutboxMessage.status.in_(DELIVERED), 1), else_=0))
    rows = session.execute(
        select(OutboxMessage.target_id, sent, delivered)
        .where(OutboxMessage.target_kind == TargetKind.ASSESSMENT,
               OutboxMessage.channel == Channel.SMS, OutboxMessage.target_id.in_(ids))
        .group_by(OutboxMessage.target_id))
    return {int(target): (int(s or 0), int(d or 0)) for target, s, d in rows}


def batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def with_counts(session: Session, rows: Iterable[dict[str, Any]], size: int = COUNT_BATCH
                ) -> Iterator[tuple[dict[str, Any], tuple[int, int]]]:
    """Each assessment row with its reminder counts, asked per batch so memory stays flat."""
    for batch in batches(rows, size):
        found = reminder_counts(session, [r["id"] for r in batch])
        for row in batch:
            yield row, found.get(row["id"], (0, 0))


def _both(at: datetime | None, tz: str) -> tuple[str, str]:
    if at is None:
        return "", ""
    return utc_to_local(at, tz).isoformat(), at.isoformat().replace("+00:00", "Z")


def adherence_row(row: Mapping[str, Any], reminders: tuple[int, int], now: datetime,
                  grace: timedelta) -> list[Any]:
    tz = row["timezone"]
    status = derive_status(row["window_start"], row["window_end"], now,
                           started_at=row["started_at"], completed_at=row["completed_at"],
                           cancelled_at=row["cancelled_at"], grace=grace)
    completed = row["completed_at"] if status == "completed" else None
    late = ""
    if completed is not None:
        hours = (completed - row["window_end"]).total_seconds() / 3600
        late = f"{max(hours, 0):.2f}"
    return [row["subject_key"], row["site_code"], row["code"], row["protocol_version"], tz,
            *_both(row["window_start"], tz), *_both(row["window_end"], tz), status,
            *_both(completed, tz), late, *reminders]


def adherence_rows(rows: Iterable[tuple[Mapping[str, Any], tuple[int, int]]], now: datetime,
                   grace: timedelta) -> Iterator[list[Any]]:
    yield list(HEADER)
    for row, reminders in rows:
        yield adherence_row(row, reminders, now, grace)
