"""Enrolment and changes to a participant, each audited in the same transaction.

Personal contact data never enters the audit trail in clear: the trail records that the
phone or email was set, changed or removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from pro_server.audit.services import changes, record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.participants import events, reminder_channels
from pro_server.participants.models import Participant, ParticipantStatus, PushSubscription
from pro_server.protocol.definitions import default_registry as protocols
from pro_server.studies.languages import check_language
from pro_server.studies.models import Site, Study
from pro_server.validation import mask_phone, normalise_phone, phone_region
from pro_server.view_model import Read

log = logging.getLogger(__name__)


def audit_view(ctx: ServiceContext, p: Participant) -> dict[str, Any]:
    """What the audit trail may hold about a participant: no contact data in clear."""
    return {
        "subject_key": p.subject_key,
        "site": p.site.code if p.site else None,
        "status": p.status.value,
        "language": p.language,
        "timezone": p.timezone,
        "phone": "set" if p.phone else None,
        "phone_ref": ctx.settings.keyring.lookup_hash(p.phone)[:12] if p.phone else None,
        "email": "set" if p.email else None,
        "email_ref": ctx.settings.keyring.lookup_hash(p.email.lower())[:12] if p.email else None,
        "email_flag": p.email_flag,
        "sms_consent": p.sms_consent,
        "sms_consent_source": p.sms_consent_source,
        "reminder_time": p.reminder_time,
        "reminder_channels": p.reminder_channels,
        "protocol_version": p.protocol_version,
    }


@dataclass(frozen=True)
class ParticipantRead(Read):
    """A participant as one staff user reads them (`ParticipantSchema`): the full phone and
    email only when `show_contact` (the reader may change the participant)."""

    model: Participant
    show_contact: bool

    @property
    def reminder_channels(self) -> list[str]:
        return [c.value for c in reminder_channels.parse(self.model.reminder_channels)]

    @property
    def push_devices(self) -> int:
        session = object_session(self.model)
        if session is None:
            return 0
        return session.scalar(
            select(func.count()).select_from(PushSubscription)
            .where(PushSubscription.participant_id == self.model.id)) or 0

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.model.phone)

    @property
    def has_email(self) -> bool:
        return bool(self.model.email)


def site_phone(site: Site, raw: str | None) -> str | None:
    """A number as staff typed it, in E.164: a national one ("(352) 555-0177") is read in
    the country of the site's contact phone."""
    if raw is None:
        return None
    region = phone_region(site.contact_phone)
    try:
        return normalise_phone(raw, region)
    except ValidationError as exc:
        message = " ".join(exc.messages) if region else (
            f"Use the E.164 form (e.g. +13525550123): site {site.code} has no contact phone "
            "to take the country from")
        raise InvalidInput.field("phone", message) from exc


def _set_phone(ctx: ServiceContext, p: Participant, phone: str | None) -> None:
    p.phone = phone
    p.phone_lookup = ctx.settings.keyring.lookup_hash(phone) if phone else None
    p.phone_flag = None


def _set_consent(ctx: ServiceContext, p: Participant, consent: dict[str, Any] | None) -> None:
    if consent is None:
        return
    p.sms_consent = consent["given"]
    p.sms_consent_at = ctx.now() if consent["given"] else None
    p.sms_consent_source = consent.get("source")
    if consent["given"]:
        p.sms_opted_out_at = None


def _set_channels(ctx: ServiceContext, p: Participant, names: list[str] | None) -> bool:
    """Store a reminder channel choice; True when it changed."""
    if names is None:
        return False
    try:
        chosen = reminder_channels.stored(reminder_channels.validate(names, ctx.settings))
    except reminder_channels.ChannelChoiceError as exc:
        raise InvalidInput.field("reminder_channels", str(exc)) from exc
    if chosen == p.reminder_channels:
        return False
    p.reminder_channels = chosen
    return True


def _set_email(p: Participant, email: str | None) -> None:
    """A new address starts clean: what the old one bounced or unsubscribed no longer holds."""
    p.email = email or None
    p.email_flag = p.email_flag_at = None


def _check_email_channel(p: Participant, field: str) -> None:
    chosen = reminder_channels.parse(p.reminder_channels)
    if reminder_channels.Channel.EMAIL in chosen and not p.email:
        raise InvalidInput.field(field, "Email reminders need an email address")


def _protocol_reminder_time(study: Study) -> str:
    """The daily reminder time of the study's protocol: a new participant's default."""
    protocol = protocols().get(study.protocol_code, int(study.protocol_version))
    return protocol.reminder_policy.daily_reminder_local_time.strftime("%H:%M")


def enrol(ctx: ServiceContext, study: Study, site: Site, data: dict[str, Any]) -> Participant:
    now = ctx.now()
    exists = ctx.session.scalar(
        select(Participant.id).where(
            Participant.study_id == study.id, Participant.subject_key == data["subject_key"]
        )
    )
    if exists:
        raise Conflict(f"Subject key {data['subject_key']} is already used in {study.code}")
    check_language(ctx, study, data["language"])
    enrolled_on = data.get("enrolled_on") or now.astimezone(ZoneInfo(data["timezone"])).date()
    p = Participant(
        study=study,
        site=site,
        subject_key=data["subject_key"],
        status=data["status"],
        language=data["language"],
        timezone=data["timezone"],
        reminder_time=data.get("reminder_time") or _protocol_reminder_time(study),
        enrolled_on=enrolled_on if data["status"] is ParticipantStatus.enrolled else None,
        protocol_version=study.protocol_version,
    )
    _set_phone(ctx, p, site_phone(site, data.get("phone")))
    _set_email(p, data.get("email"))
    _set_consent(ctx, p, data.get("sms_consent"))
    p.reminder_channels = reminder_channels.stored(reminder_channels.DEFAULT)
    _set_channels(ctx, p, data.get("reminder_channels"))
    _check_email_channel(p, "reminder_channels")
    ctx.session.add(p)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # a concurrent enrolment took the key first
        raise Conflict(f"Subject key {data['subject_key']} is already used") from exc
    record(ctx, "participant.enrol", "participant", p.id, after=audit_view(ctx, p),
           study_id=study.id, site_id=site.id)
    log.info("enrolled participant id=%s subject=%s site=%s language=%s sms_consent=%s",
             p.id, p.subject_key, site.code, p.language, p.sms_consent)
    ctx.events.publish(events.ENROLLED, ctx, p)
    return p


def update(ctx: ServiceContext, p: Participant, data: dict[str, Any]) -> Participant:
    if p.status is ParticipantStatus.withdrawn:
        raise Conflict("A withdrawn participant cannot be changed")
    before = audit_view(ctx, p)
    reason = data.pop("reason", None)
    changed: set[str] = set()
    if "phone" in data:
        data["phone"] = site_phone(p.site, data["phone"])
    if "phone" in data and data["phone"] != p.phone:
        _set_phone(ctx, p, data["phone"])
        changed.add("phone")
    if "sms_consent" in data:
        _set_consent(ctx, p, data["sms_consent"])
        changed.add("sms_consent")
    if p.sms_consent and not p.phone:
        raise InvalidInput.field("phone", "SMS consent needs a phone number")
    if _set_channels(ctx, p, data.get("reminder_channels")):
        changed.add("reminder_channels")
    if "email" in data and (data["email"] or None) != p.email:
        _set_email(p, data["email"])
        changed.add("email")
    _check_email_channel(p, "reminder_channels" if "reminder_channels" in changed else "email")
    if "language" in data and data["language"] != p.language:
        check_language(ctx, p.study, data["language"])
    for name in ("language", "timezone", "reminder_time"):
        if name in data and getattr(p, name) != data[name]:
            setattr(p, name, data[name])
            changed.add(name)
    if "status" in data and data["status"] is not p.status:
        if data["status"] is ParticipantStatus.enrolled and p.enrolled_on is None:
            p.enrolled_on = ctx.now().astimezone(ZoneInfo(p.timezone)).date()
        p.status = data["status"]
        changed.add("status")
    if not changed:
        return p
    old, new = changes(before, audit_view(ctx, p))
    record(ctx, "participant.update", "participant", p.id, before=old, after=new, reason=reason,
           study_id=p.study_id, site_id=p.site_id)
    log.info("updated participant id=%s fields=%s", p.id, ",".join(sorted(changed)))
    ctx.events.publish(events.UPDATED, ctx, p, changed)
    return p


def withdraw(ctx: ServiceContext, p: Participant, reason: str) -> Participant:
    if p.status is ParticipantStatus.withdrawn:
        raise Conflict("The participant is already withdrawn")
    before = audit_view(ctx, p)
    p.status = ParticipantStatus.withdrawn
    p.withdrawn_at = ctx.now()
    p.withdrawal_reason = reason
    record(ctx, "participant.withdraw", "participant", p.id, before=before,
           after=audit_view(ctx, p), reason=reason, study_id=p.study_id, site_id=p.site_id)
    ctx.events.publish(events.WITHDRAWN, ctx, p)
    return p


def local_today(ctx: ServiceContext, p: Participant) -> date:
    return ctx.now().astimezone(ZoneInfo(p.timezone)).date()
