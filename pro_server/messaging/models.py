"""The outbox (every message is a row before it is sent) and the inbound SMS log.

A message's text is rendered only when it is sent, with a fresh participant link; what is
kept is the text with the link replaced by "[link]" (the link's token is a credential and
exists in the database only as a hash, in participant_link).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.crypto import EncryptedText
from pro_server.db import Base, enum_type
from pro_server.messaging.keywords import InboundKind
from pro_server.messaging.purposes import MessageStatus, Purpose, TargetKind
from pro_server.participants.models import Participant
from pro_server.participants.reminder_channels import Channel


def _partial(name: str, *columns: str, where: str, sqlite: str | None = None) -> Index:
    """An index of the rows that meet `where` on both backends (`sqlite`: SQLite's words for
    it, where a query says a boolean as `= 1`)."""
    return Index(name, *columns, postgresql_where=text(where),
                 sqlite_where=text(sqlite or where))


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # What the dispatcher asks for: pending rows whose attempt time has come.
        Index("ix_outbox_message_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_message_target", "target_kind", "target_id"),
        # The three below hold only the few rows their queries ask for. A change of status
        # (a submission cancels its survey's ~10 reminders) writes the row's new version into
        # every index whose condition it meets: most rows are never `sending`, have no
        # provider id (web, cancelled) and never need review, and no longer pay for these.
        # What recovery asks for: `sending` rows whose holder's lease ran out (where the
        # status is a parameter, the status prefix of the index above serves as well).
        _partial("ix_outbox_message_status_lease", "status", "lease_until",
                 where="status = 'sending'"),
        # A status report names the provider's id (`= :sid` says it is not NULL).
        _partial("ix_outbox_message_provider_message_id", "provider_message_id",
                 where="provider_message_id IS NOT NULL"),
        # The review queue: asked as `needs_review` or `= true` (IS TRUE would not use it).
        _partial("ix_outbox_message_needs_review", "needs_review",
                 where="needs_review", sqlite="needs_review = 1"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, name="channel", length=8))
    purpose: Mapped[Purpose] = mapped_column(enum_type(Purpose, name="purpose", length=40))
    target_kind: Mapped[TargetKind] = mapped_column(
        enum_type(TargetKind, name="target_kind", length=16))
    target_id: Mapped[int]
    occurrence: Mapped[int]
    # channel:participant:purpose:target kind:target id:occurrence (planning.dedup_key)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[MessageStatus] = mapped_column(
        enum_type(MessageStatus, name="status", length=12))
    # Why the row is in its status, for staff ("participant opted out (STOP) ...").
    status_reason: Mapped[str | None] = mapped_column(String(300))
    due_at: Mapped[datetime]
    # Not sent at or after this instant (window end, visit start).
    expires_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    # When this row's provider call started (committed before the call). A `sending` row
    # without it was claimed but never attempted: it goes back to the queue.
    attempted_at: Mapped[datetime | None]
    # The dispatcher process holding a `sending` row (host:pid:nonce) and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error_message: Mapped[str | None] = mapped_column(String(500))
    body_redacted: Mapped[str | None] = mapped_column(Text)
    included_opt_out: Mapped[bool] = mapped_column(default=False)
    # An attempt timed out without an answer: before sending again, ask the provider.
    outcome_unknown: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime]
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Sent on this channel because the row it points at (the participant's earlier choice)
    # could not deliver: no active push subscription, the push service refused...
    fallback_of_id: Mapped[int | None]

    participant: Mapped[Participant] = relationship()


class InboundMessage(Base):
    """An SMS a participant (or an unknown number) sent to the service."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    # crypto.lookup_hash of the sender's E.164 number (= Participant.phone_lookup).
    from_lookup: Mapped[str] = mapped_column(String(64), index=True)
    from_masked: Mapped[str | None] = mapped_column(String(32))  # validation.mask_phone
    body: Mapped[str] = mapped_column(EncryptedText())
    kind: Mapped[InboundKind] = mapped_column(enum_type(InboundKind, name="kind", length=20))
    provider_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime]
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(254))
    review_note: Mapped[str | None] = mapped_column(String(500))

    participant: Mapped[Participant | None] = relationship()
