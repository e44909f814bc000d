"""EDC clients: machines of a sponsor's EDC that pull one study's scored data.

A client authenticates with `Authorization: Bearer pro_edc_<key_id>.<secret>`. `key_id` is a
public prefix that finds the row; the secret is 256 random bits shown once and stored as its
SHA-256. A fast hash is enough for a secret that cannot be guessed (unlike a password, there is
no dictionary to try), and it keeps every request cheap.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.db import Base, CreatedAt, JSONText
from pro_server.studies.models import Study

SCOPES = ("scores", "responses", "adherence")


class EdcClient(CreatedAt, Base):
    __tablename__ = "edc_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[Any] = mapped_column(JSONText())
    created_by: Mapped[str] = mapped_column(String(254))
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    study: Mapped[Study] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def has(self, scope: str) -> bool:
        return scope in (self.scopes or ())
