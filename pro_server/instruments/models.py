"""A study's explicit, audited approval to collect data in a not-validated language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pro_server.db import Base


class LanguageApproval(Base):
    __tablename__ = "language_approval"
    __table_args__ = (UniqueConstraint("study_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    approved_by: Mapped[str] = mapped_column(String(254))
    approved_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
