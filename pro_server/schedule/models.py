"""Infusions, assessment instances with their windows and recorded transitions, and visits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.db import Base, CreatedAt, JSONText, UpdatedAt, enum_type
from pro_server.participants.models import Participant
from pro_server.protocol.status import AssessmentStatus, derive_status


class InfusionState(StrEnum):
    """What the site recorded of an infusion (protocol.planner.InfusionStatus, stored)."""

    PLANNED = "planned"
    GIVEN = "given"
    NOT_GIVEN = "not_given"


class RecordedStatus(StrEnum):
    """An assessment's status as jobs last recorded it: "new" until the first record, then
    one of protocol.status.AssessmentStatus."""

    NEW = "new"
    SCHEDULED = "scheduled"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"


class MissedReason(StrEnum):
    """Why a missed survey was missed, as a coordinator records it (schedule.missed)."""

    NOT_REACHED = "not_reached"
    DECLINED = "declined"
    TOO_UNWELL = "too_unwell"
    TECHNICAL_PROBLEM = "technical_problem"
    HOSPITALISED = "hospitalised"
    OTHER = "other"


class VisitMode(StrEnum):
    PHONE = "phone"
    VIDEO = "video"


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Infusion(CreatedAt, UpdatedAt, Base):
    """What the site recorded about one infusion (never which product it was: blinded)."""

    __tablename__ = "infusion"
    __table_args__ = (UniqueConstraint("participant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    number: Mapped[int]
    status: Mapped[InfusionState] = mapped_column(
        enum_type(InfusionState, name="status", length=12))
    planned_date: Mapped[date | None]
    # The wall-clock time the site recorded, in the participant's zone, kept as recorded.
    given_at_local: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    given_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(500))


class Assessment(CreatedAt, UpdatedAt, Base):
    """One scheduled assessment of one participant; one row per (participant, code).

    The stored `recorded_status` is what jobs last recorded; `status_at(now)` is the truth,
    derived from the window, the facts and the clock.
    """

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("participant_id", "code"),
        # Every column the dashboard overview counts by (migration 0015_h20dash).
        Index("ix_assessment_overview", "participant_id", "code", "window_start", "window_end",
              "started_at", "completed_at", "cancelled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int]
    anchor: Mapped[str] = mapped_column(String(20))
    protocol_version: Mapped[str] = mapped_column(String(20))
    instruments: Mapped[Any] = mapped_column(JSONText())
    timezone: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date]
    last_day: Mapped[date]
    window_start: Mapped[datetime] = mapped_column(index=True)
    window_end: Mapped[datetime] = mapped_column(index=True)
    window_version: Mapped[int] = mapped_column(default=1)
    recorded_status: Mapped[RecordedStatus] = mapped_column(
        enum_type(RecordedStatus, name="recorded_status", length=12), index=True)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Why a missed survey was missed, as a coordinator recorded it (pro_server.schedule.missed).
    missed_reason: Mapped[MissedReason | None] = mapped_column(
        enum_type(MissedReason, name="missed_reason", length=30))
    missed_reason_text: Mapped[str | None] = mapped_column(String(500))
    missed_reason_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()

    def status_at(self, now: datetime, grace: timedelta = timedelta(0)) -> AssessmentStatus:
        return derive_status(
            self.window_start, self.window_end, now, started_at=self.started_at,
            completed_at=self.completed_at, cancelled_at=self.cancelled_at, grace=grace,
        )


class AssessmentTransition(Base):
    """A recorded status change; the unique key makes a second recorder's insert fail."""

    __tablename__ = "assessment_transition"
    __table_args__ = (UniqueConstraint("assessment_id", "window_version", "to_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    window_version: Mapped[int]
    from_status: Mapped[RecordedStatus] = mapped_column(
        enum_type(RecordedStatus, name="from_status", length=12))
    to_status: Mapped[RecordedStatus] = mapped_column(
        enum_type(RecordedStatus, name="to_status", length=12))
    at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))


class Visit(CreatedAt, UpdatedAt, Base):
    """A virtual visit (phone or video appointment)."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(default=30)
    mode: Mapped[VisitMode] = mapped_column(enum_type(VisitMode, name="mode", length=10))
    join_url: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[VisitStatus] = mapped_column(enum_type(VisitStatus, name="status", length=12))
    revision: Mapped[int] = mapped_column(default=1)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    participant: Mapped[Participant] = relationship()
