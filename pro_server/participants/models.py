"""Participants: identity within a study, contact data (encrypted) and consent."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.crypto import EncryptedText
from pro_server.db import Base, CreatedAt, UpdatedAt, enum_type
from pro_server.studies.models import Site, Study


class ParticipantStatus(enum.StrEnum):
    screening = "screening"
    enrolled = "enrolled"
    withdrawn = "withdrawn"
    completed = "completed"


class EmailFlag(enum.StrEnum):
    """Why no more email goes to the participant's address (a new address clears it)."""

    BOUNCED = "bounced"
    COMPLAINT = "complaint"  # the mail server refused it as spam or by policy (5.7.x)
    UNSUBSCRIBED = "unsubscribed"


class Participant(CreatedAt, UpdatedAt, Base):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("study_id", "subject_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    subject_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[ParticipantStatus] = mapped_column(
        enum_type(ParticipantStatus, name="status", length=20))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    phone_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(EncryptedText())
    # Why no email goes to the address: bounced | complaint | unsubscribed (messaging.email);
    # cleared when the address changes.
    email_flag: Mapped[EmailFlag | None] = mapped_column(
        enum_type(EmailFlag, name="email_flag", length=20))
    email_flag_at: Mapped[datetime | None]
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_at: Mapped[datetime | None]
    sms_consent_source: Mapped[str | None] = mapped_column(String(200))
    sms_opted_out_at: Mapped[datetime | None]
    phone_flag: Mapped[str | None] = mapped_column(String(40))
    reminder_time: Mapped[str] = mapped_column(String(5), default="10:00")
    # Reminder channels in order of preference, comma-separated ("push,sms"): the first
    # that can deliver is used (participants.reminder_channels).
    reminder_channels: Mapped[str] = mapped_column(String(40), default="sms",
                                                   server_default="sms")
    enrolled_on: Mapped[date | None]
    protocol_version: Mapped[str | None] = mapped_column(String(20))
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))

    study: Mapped[Study] = relationship()
    site: Mapped[Site] = relationship()


class ParticipantLink(Base):
    """A participant's link: a random token stored only as its hash (see participants.links)."""

    __tablename__ = "participant_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(254))


class PushSubscription(CreatedAt, Base):
    """One browser (device) of a participant that accepts Web Push notifications.

    The endpoint (a capability URL at the push service) and the browser's keys are contact
    data: encrypted at rest. `endpoint_lookup` (a keyed hash) finds a device subscribing
    again. Deleted when the participant or staff remove it or the push service says it is
    gone (404/410)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    endpoint: Mapped[str] = mapped_column(EncryptedText())
    endpoint_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(EncryptedText())
    auth: Mapped[str] = mapped_column(EncryptedText())
    # "Android, Chrome": what the participant and staff tell devices apart by.
    device_label: Mapped[str | None] = mapped_column(String(80))
    last_sent_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()
