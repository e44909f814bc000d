"""A participant's SMS state as messaging changes it: opted out, opted back in, number
flagged. Each change is audited; none carries the number itself."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.messaging.keywords import InboundKind
from pro_server.messaging.models import InboundMessage
from pro_server.messaging.purposes import SENT_DESPITE_OPT_OUT, Purpose
from pro_server.participants.models import Participant


def opt_out(ctx: ServiceContext, p: Participant, source: str) -> bool:
    """Stop all SMS to the participant (STOP, Twilio 21610, staff). False if already out."""
    if p.sms_opted_out_at is not None:
        return False
    p.sms_opted_out_at = ctx.now()
    record(ctx, "participant.sms_opt_out", "participant", p.id,
           before={"sms_opted_out": False}, after={"sms_opted_out": True, "source": source},
           study_id=p.study_id, site_id=p.site_id)
    return True


def opt_in(ctx: ServiceContext, p: Participant, source: str) -> bool:
    """START: SMS resume (consent as recorded still applies). False if not opted out."""
    if p.sms_opted_out_at is None:
        return False
    p.sms_opted_out_at = None
    record(ctx, "participant.sms_opt_in", "participant", p.id,
           before={"sms_opted_out": True}, after={"sms_opted_out": False, "source": source},
           study_id=p.study_id, site_id=p.site_id)
    return True


def flag_phone(ctx: ServiceContext, p: Participant, flag: str, detail: str) -> bool:
    """Mark the number as unusable for staff to fix (changing the phone clears the flag)."""
    if p.phone_flag == flag:
        return False
    before = p.phone_flag
    p.phone_flag = flag
    record(ctx, "participant.phone_flag", "participant", p.id,
           before={"phone_flag": before}, after={"phone_flag": flag, "detail": detail},
           study_id=p.study_id, site_id=p.site_id)
    return True


def sms_block_reason(p: Participant, purpose: Purpose | str, *,
                     opt_out_waiting: bool | None = None) -> str | None:
    """Why an SMS of this purpose may not go to the participant now, or None.
    `opt_out_waiting`: `possible_opt_out_waiting(p)` when the caller read it already (the
    dispatcher reads it for a whole batch at once)."""
    purpose = Purpose(purpose)
    if not p.phone:
        return "no phone number on record"
    if p.phone_flag:
        return f"phone number flagged for staff: {p.phone_flag}"
    if purpose in SENT_DESPITE_OPT_OUT:
        return None
    if p.sms_opted_out_at is not None:
        when = p.sms_opted_out_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"participant opted out of SMS (STOP) at {when}"
    if not p.sms_consent:
        return "no SMS consent on record"
    if possible_opt_out_waiting(p) if opt_out_waiting is None else opt_out_waiting:
        return ("paused: a reply that may ask us to stop texting waits for staff review "
                "(resolve it in the message review)")
    return None


def possible_opt_out_waiting(p: Participant) -> bool:
    """A reply from the participant's number that may revoke consent in their own words
    ("please don't text me anymore") and that staff have not resolved yet.

    Under the TCPA a revocation "by any reasonable means" counts, so until a coordinator
    decides, texting on is the risk and waiting is the safe side.
    """
    session = object_session(p)
    if session is None or not p.phone_lookup:
        return False
    return session.scalar(select(InboundMessage.id).where(
        InboundMessage.from_lookup == p.phone_lookup,
        InboundMessage.kind == InboundKind.POSSIBLE_OPT_OUT.value,
        InboundMessage.needs_review.is_(True)).limit(1)) is not None


def opt_out_waiting_lookups(session: Session, lookups: Iterable[str]) -> set[str]:
    """Of these phone lookups, the ones with a possible opt-out waiting for staff (what
    `possible_opt_out_waiting` asks of one participant, for many in one statement)."""
    wanted = {lookup for lookup in lookups if lookup}
    if not wanted:
        return set()
    return set(session.scalars(select(InboundMessage.from_lookup).distinct().where(
        InboundMessage.from_lookup.in_(wanted),
        InboundMessage.kind == InboundKind.POSSIBLE_OPT_OUT.value,
        InboundMessage.needs_review.is_(True))))
