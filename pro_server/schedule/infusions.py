"""Recording infusions as the site reports them: planned, given, corrected, not given."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.local_time import local_to_utc
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.planner import InfusionOrderError, InfusionRecord, check_infusion_order
from pro_server.schedule.assessments import infusion_records, protocol_for, sync_assessments
from pro_server.schedule.models import Infusion


def _view(i: Infusion) -> dict[str, Any]:
    return {
        "number": i.number, "status": i.status,
        "planned_date": i.planned_date.isoformat() if i.planned_date else None,
        "given_at_local": i.given_at_local.isoformat() if i.given_at_local else None,
        "reason": i.reason,
    }


def get_infusion(ctx: ServiceContext, participant: Participant, number: int) -> Infusion | None:
    return ctx.session.scalar(select(Infusion).where(
        Infusion.participant_id == participant.id, Infusion.number == number))


def _check_order(ctx: ServiceContext, participant: Participant, new: InfusionRecord) -> None:
    """Refuse a record that would put the infusions out of order (nothing is changed)."""
    records = [r for r in infusion_records(ctx, participant) if r.number != new.number]
    try:
        check_infusion_order([*records, new])
    except InfusionOrderError as exc:
        raise InvalidInput.field(exc.field, str(exc)) from exc


def record_infusion(
    ctx: ServiceContext,
    participant: Participant,
    number: int,
    *,
    status: str,
    planned_date: date | None = None,
    given_at_local: datetime | None = None,
    reason: str | None = None,
) -> Infusion:
    """Record or correct one infusion, then bring the assessments in line.

    Changing an infusion already recorded as given is a correction and needs a reason.
    """
    if participant.status is not ParticipantStatus.enrolled:
        raise Conflict(
            f"Infusions are recorded for enrolled participants, not {participant.status.value}"
        )
    protocol = protocol_for(participant)
    if number > protocol.infusion_count:
        raise InvalidInput.field(
            "number",
            f"Protocol version {protocol.version} has {protocol.infusion_count} infusions",
        )
    now = ctx.now()
    given_at = local_to_utc(given_at_local, participant.timezone) if (
        status == "given" and given_at_local) else None
    if given_at is not None and given_at > now:
        raise InvalidInput.field("given_at_local", "An infusion cannot be given in the future")
    infusion = get_infusion(ctx, participant, number)
    _check_order(ctx, participant, InfusionRecord(
        number=number, status=status,  # type: ignore[arg-type]
        planned_date=planned_date if status == "planned" else (
            infusion.planned_date if infusion else None),
        given_at_local=given_at_local if status == "given" else None, reason=reason))
    before = _view(infusion) if infusion else None
    correcting = infusion is not None and infusion.status in ("given", "not_given")
    if correcting and not (reason and reason.strip()):
        raise InvalidInput.field("reason", f"Infusion {number} is already recorded as "
                                 f"{infusion.status}; a correction needs a reason")
    if infusion is None:
        infusion = Infusion(participant_id=participant.id, number=number, created_at=now)
        ctx.session.add(infusion)
    infusion.status = status
    infusion.planned_date = planned_date if status == "planned" else infusion.planned_date
    infusion.given_at_local = given_at_local if status == "given" else None
    infusion.given_at = given_at
    infusion.reason = reason
    infusion.updated_at = now
    ctx.session.flush()
    try:
        # The planner refuses inconsistent records (out of order, before enrolment, ...).
        actions = sync_assessments(ctx, participant, cause=f"infusion {number} {status}",
                                   reason=reason)
    except ValueError as exc:
        raise InvalidInput.field("number", str(exc)) from exc
    action = "infusion.correct" if correcting else f"infusion.{status}"
    record(ctx, action, "infusion", infusion.id, before=before,
           after={**_view(infusion), "assessments": [f"{a}:{c}" for a, c in actions]},
           reason=reason, study_id=participant.study_id, site_id=participant.site_id)
    return infusion
