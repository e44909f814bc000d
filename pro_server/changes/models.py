"""Data-change requests: a coordinator asks to change one answer; an investigator decides.

The participant's response is never edited: approval adds a new response version (see
pro_server.responses.services.correct_answer) and this row keeps who asked, why, on what
source, who decided and which version it produced.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.db import Base, JSONText, enum_type
from pro_server.responses.models import Response
from pro_server.staff.models import StaffUser


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


STATUSES = tuple(s.value for s in ChangeStatus)


class ChangeRequest(Base):
    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str] = mapped_column(String(60))
    # JSON values as the instrument stores them; NULL means "not answered".
    old_value: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(200))
    status: Mapped[ChangeStatus] = mapped_column(
        enum_type(ChangeStatus, name="status", length=10), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    new_response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))

    response: Mapped[Response] = relationship(foreign_keys=[response_id])
    requested_by: Mapped[StaffUser] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[StaffUser | None] = relationship(foreign_keys=[decided_by_id])
