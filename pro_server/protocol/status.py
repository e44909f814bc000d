"""Assessment status derived from its window, the stored facts and the clock (pure).

Nothing here depends on a job having run: read at any instant, the status follows from
``now`` and the facts. Facts stamped after ``now`` are ignored, so a past status can be
replayed for an audit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pro_server.local_time import require_aware

AssessmentStatus = Literal["scheduled", "open", "in_progress", "completed", "missed", "cancelled"]
ACCEPTS_RESPONSES: frozenset[AssessmentStatus] = frozenset({"open", "in_progress"})
TERMINAL: frozenset[AssessmentStatus] = frozenset({"completed", "missed", "cancelled"})


def derive_status(
    window_start_utc: datetime,
    window_end_utc: datetime,
    now_utc: datetime,
    *,
    started_at: datetime | None = None,
    completed_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    grace: timedelta = timedelta(0),
) -> AssessmentStatus:
    """Status at ``now_utc``.

    Completed beats cancelled (the data exist); cancelled beats the clock. ``grace`` lets a
    response started inside the window be finished after it closes; nobody can start late.
    A response started at or after the window end (possible only when the window was closed
    afterwards, e.g. at an infusion recorded later than it was given) gets no grace.
    """
    for name, value in (
        ("window_start_utc", window_start_utc),
        ("window_end_utc", window_end_utc),
        ("now_utc", now_utc),
        ("started_at", started_at),
        ("completed_at", completed_at),
        ("cancelled_at", cancelled_at),
    ):
        if value is not None:
            require_aware(value, name)
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")

    def happened(at: datetime | None) -> bool:
        return at is not None and at <= now_utc

    if happened(completed_at):
        return "completed"
    if happened(cancelled_at):
        return "cancelled"
    if now_utc < window_start_utc:
        return "scheduled"
    if happened(started_at):
        if started_at is not None and started_at >= window_end_utc:
            grace = timedelta(0)
        return "in_progress" if now_utc < window_end_utc + grace else "missed"
    return "open" if now_utc < window_end_utc else "missed"


def next_status_change(
    window_start_utc: datetime,
    window_end_utc: datetime,
    now_utc: datetime,
    *,
    started_at: datetime | None = None,
    completed_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    grace: timedelta = timedelta(0),
) -> datetime | None:
    """When the clock alone will next change the status (None if only a new fact can)."""
    status = derive_status(
        window_start_utc,
        window_end_utc,
        now_utc,
        started_at=started_at,
        completed_at=completed_at,
        cancelled_at=cancelled_at,
        grace=grace,
    )
    if status == "scheduled":
        return window_start_utc
    if status == "open":
        return window_end_utc
    if status == "in_progress":
        return window_end_utc + grace
    return None
