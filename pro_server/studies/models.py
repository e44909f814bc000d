"""Studies and their sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.db import Base, CreatedAt


class Study(CreatedAt, Base):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    registry_id: Mapped[str | None] = mapped_column(String(40))
    default_timezone: Mapped[str] = mapped_column(String(64))
    # The protocol family (its study folder on PRO_STUDIES_PATH) and its version in force.
    protocol_code: Mapped[str] = mapped_column(String(40))
    protocol_version: Mapped[str] = mapped_column(String(20))
    program_name: Mapped[str] = mapped_column(String(40))
    # Admins and this study's investigators must sign in with a TOTP second factor.
    staff_second_factor_required: Mapped[bool] = mapped_column(default=False,
                                                               server_default=false())

    sites: Mapped[list[Site]] = relationship(back_populates="study", order_by="Site.code")


class Site(CreatedAt, Base):
    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))

    study: Mapped[Study] = relationship(back_populates="sites")


class StudyDefinitionFile(Base):
    """A definition `pro study apply` put live for a study (a protocol version or one of the
    study's own instruments) and the fingerprint of its data then: a later apply compares
    against it, so a definition that data was collected under is never silently changed."""

    __tablename__ = "study_definition_file"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # "protocol v2", "instrument x 1.0"
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of its data
    applied_at: Mapped[datetime]
