"""The append-only, hash-chained audit trail.

`id` is the order of appends (numbered by the database at INSERT, may skip a value a
rolled-back transaction took); `seq`, `prev_hash` and `hash` are the event's place in the
chain, NULL until the sealer gives them (once; the database refuses any other change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from pro_server.db import Base, JSONText


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # What the sealer reads: the events committed but not sealed yet (few, at the end).
    __table_args__ = (Index("ix_audit_event_unsealed", "id", sqlite_where=text("seq IS NULL"),
                            postgresql_where=text("seq IS NULL")),)

    # SQLite only auto-increments an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    study_id: Mapped[int | None]
    site_id: Mapped[int | None]
    before: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    after: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
