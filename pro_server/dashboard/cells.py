"""What one grid cell says about one assessment of one participant (pure).

The derived assessment status (pro_server.protocol.status) is refined for people chasing
surveys: a completed survey is "on time" or "late" (finished after its window closed, within
the grace period), a survey not yet open is "upcoming", and so is one only projected from a
planned infusion date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pro_server.protocol.status import AssessmentStatus

CellStatus = Literal["on_time", "late", "missed", "open", "in_progress", "upcoming", "cancelled"]

# The overview's five columns; "in progress" is counted as open, cancelled is not counted.
BUCKETS: tuple[str, ...] = ("on_time", "late", "missed", "open", "upcoming")
BUCKET_OF: dict[str, str | None] = {
    "on_time": "on_time", "late": "late", "missed": "missed", "open": "open",
    "in_progress": "open", "upcoming": "upcoming", "cancelled": None,
}
LABELS: dict[str, str] = {
    "on_time": "done on time", "late": "done late", "missed": "missed", "open": "open",
    "in_progress": "started", "upcoming": "upcoming", "cancelled": "cancelled",
}


def cell_status(status: AssessmentStatus, window_end: datetime,
                completed_at: datetime | None) -> CellStatus:
    if status == "completed":
        return "late" if completed_at is not None and completed_at > window_end else "on_time"
    if status == "scheduled":
        return "upcoming"
    return status


@dataclass(frozen=True)
class Cell:
    code: str
    status: CellStatus
    window_start: datetime
    window_end: datetime
    first_day: date  # the window's first and last local days
    last_day: date
    completed_at: datetime | None = None
    assessment_id: int | None = None
    projected: bool = False
    missed_reason: str | None = None  # in words, as recorded by a coordinator

    @property
    def label(self) -> str:
        return "expected" if self.projected else LABELS[self.status]
