"""What the participant pages keep: link opens, the second factor and per-study page settings.

The links themselves belong to participants (pro_server.participants.models.ParticipantLink):
reminders of every channel carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pro_server.db import Base


class LinkOpen(Base):
    """A participant session opened from a link: when, and which link. Time only: no address,
    no browser, nothing answered (issue 16: "did the participant see it?")."""

    __tablename__ = "participant_link_open"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("participant_link.id"))
    opened_at: Mapped[datetime]


class ParticipantSecret(Base):
    """The participant's second factor (birth year or PIN), set at enrolment, kept as Argon2.

    Wrong attempts are counted here too, so guessing from many addresses still locks out.
    """

    __tablename__ = "participant_secret"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # birth_year | pin
    secret_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudyWebSettings(Base):
    """Per-study settings of the participant pages: which second factor, if any."""

    __tablename__ = "study_web_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), unique=True)
    second_factor: Mapped[str] = mapped_column(String(12), default="none")
    updated_at: Mapped[datetime]
