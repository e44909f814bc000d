"""Moving participants (one, or a whole study) to another protocol version."""

from __future__ import annotations

from sqlalchemy import Select, select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import InvalidInput
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.definitions import UnknownProtocolError, default_registry
from pro_server.schedule.assessments import sync_assessments
from pro_server.schedule.models import Infusion
from pro_server.studies.models import Study


def change_protocol(ctx: ServiceContext, participant: Participant, version: int,
                    reason: str) -> list[tuple[str, str]]:
    """Assessments not started follow `version`; started and completed ones keep theirs."""
    old = participant.protocol_version
    participant.protocol_version = str(version)
    actions = sync_assessments(ctx, participant, cause=f"protocol v{old} -> v{version}",
                               reason=reason)
    record(ctx, "participant.protocol_change", "participant", participant.id,
           before={"protocol_version": old},
           after={"protocol_version": str(version),
                  "assessments": [f"{a}:{c}" for a, c in actions]},
           reason=reason, study_id=participant.study_id, site_id=participant.site_id)
    return actions


def _refuse_lost_infusions(ctx: ServiceContext, participants: Select[tuple[Participant]],
                           infusion_count: int, version: int) -> None:
    """422 before anything changes when the version has no room for recorded infusions."""
    ids = participants.with_only_columns(Participant.id).order_by(None).scalar_subquery()
    rows = ctx.session.execute(
        select(Participant.subject_key, Infusion.number, Infusion.status)
        .join(Infusion, Infusion.participant_id == Participant.id)
        .where(Participant.id.in_(ids), Infusion.number > infusion_count)
        .order_by(Participant.subject_key, Infusion.number)).all()
    if not rows:
        return
    raise InvalidInput.field(
        "version",
        f"Protocol version {version} defines infusions 1..{infusion_count}; nothing was changed"
        " because these participants have later infusions recorded:",
        *(f"{key}: infusion {number} recorded as {status}" for key, number, status in rows))


def amend_study(ctx: ServiceContext, study: Study, version: int, reason: str,
                subject_keys: list[str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Move the study (new participants) and its active participants to `version`."""
    try:
        protocol = default_registry().get(study.protocol_code, version)
    except UnknownProtocolError as exc:
        raise InvalidInput.field("version", str(exc)) from exc
    if not reason.strip():
        raise InvalidInput.field("reason", "An amendment needs a reason")
    query = select(Participant).where(
        Participant.study_id == study.id,
        Participant.status.in_([ParticipantStatus.enrolled, ParticipantStatus.screening]),
    ).order_by(Participant.subject_key)
    if subject_keys is not None:
        query = query.where(Participant.subject_key.in_(subject_keys))
    _refuse_lost_infusions(ctx, query, protocol.infusion_count, version)
    if subject_keys is None:
        record(ctx, "study.protocol_change", "study", study.id,
               before={"protocol_version": study.protocol_version},
               after={"protocol_version": str(version)}, reason=reason, study_id=study.id)
        study.protocol_version = str(version)
    results = {}
    for participant in ctx.session.scalars(query):
        if participant.protocol_version != str(version):
            results[participant.subject_key] = change_protocol(ctx, participant, version, reason)
    return results


def apply_signed_amendment(ctx: ServiceContext, study: Study, version: int, reason: str,
                           subject_keys: list[str] | None, signature: dict[str, str]
                           ) -> dict[str, list[tuple[str, str]]]:
    """An amendment applied under its signer's electronic signature (21 CFR 11.50), which
    the audit trail keeps beside the change."""
    result = amend_study(ctx, study, version, reason, subject_keys)
    record(ctx, "study.amendment_signed", "study", study.id, after={
        "version": version, "subject_keys": subject_keys, "signature": signature},
        reason=reason, study_id=study.id)
    return result
