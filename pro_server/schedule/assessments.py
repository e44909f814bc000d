"""Keeping a participant's assessment rows in step with the protocol and the infusions.

One function does it for every cause (enrolment, an infusion given or corrected or not
given, a protocol amendment): plan with the participant's protocol version, then let the
pure amendment rules decide what to keep, regenerate, create or cancel. Started and
completed assessments never move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.db import insert_rows_now, update_now, update_row_now
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.amendment import ExistingAssessment, plan_amendment
from pro_server.protocol.definitions import ProtocolDefinition, default_registry
from pro_server.protocol.planner import InfusionRecord, PlannedAssessment, plan_assessments
from pro_server.protocol.status import AssessmentStatus, derive_status
from pro_server.schedule import events
from pro_server.schedule.models import Assessment, AssessmentTransition, Infusion, RecordedStatus

NOT_STARTED: frozenset[str] = frozenset({"scheduled", "open", "missed"})


def grace(ctx: ServiceContext) -> timedelta:
    return timedelta(hours=ctx.settings.submit_grace_hours)


def protocol_for(participant: Participant, version: str | None = None) -> ProtocolDefinition:
    return default_registry().get(
        participant.study.protocol_code, int(version or participant.protocol_version or 0)
    )


def infusion_records(ctx: ServiceContext, participant: Participant) -> list[InfusionRecord]:
    rows = ctx.session.scalars(
        select(Infusion).where(Infusion.participant_id == participant.id).order_by(Infusion.number)
    )
    return [
        InfusionRecord(number=r.number, status=r.status, planned_date=r.planned_date,  # type: ignore[arg-type]
                       given_at_local=r.given_at_local, reason=r.reason)
        for r in rows
    ]


def assessments_of(ctx: ServiceContext, participant: Participant) -> list[Assessment]:
    return list(ctx.session.scalars(
        select(Assessment).where(Assessment.participant_id == participant.id)
        .order_by(Assessment.sequence)
    ))


def window_view(a: Assessment) -> dict[str, Any]:
    return {
        "code": a.code, "protocol_version": a.protocol_version,
        "first_day": a.first_day.isoformat(), "last_day": a.last_day.isoformat(),
        "window_start": a.window_start.isoformat(), "window_end": a.window_end.isoformat(),
        "instruments": list(a.instruments),
    }


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    """The columns of an assessment a participant's save reads and `record_status_now`
    writes from, read without an ORM object (loading one costs a draft save a tenth of its
    CPU): what `Assessment` gives for them, and its `status_at`."""

    id: int
    code: str
    study_id: int
    site_id: int
    instruments: Any
    window_start: datetime
    window_end: datetime
    window_version: int
    recorded_status: RecordedStatus
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None

    def status_at(self, now: datetime, grace: timedelta = timedelta(0)) -> AssessmentStatus:
        return derive_status(
            self.window_start, self.window_end, now, started_at=self.started_at,
            completed_at=self.completed_at, cancelled_at=self.cancelled_at, grace=grace,
        )


def _transition(ctx: ServiceContext, a: Assessment | AssessmentRow,
                to_status: AssessmentStatus, by: str) -> dict[str, Any]:
    """A transition's row (`AssessmentTransition`'s columns)."""
    return {"assessment_id": a.id, "window_version": a.window_version,
            "from_status": a.recorded_status, "to_status": to_status, "at": ctx.now(),
            "recorded_by": by}


_TRANSITIONS = cast(Table, AssessmentTransition.__table__)


def record_status(ctx: ServiceContext, a: Assessment, to_status: AssessmentStatus, by: str) -> bool:
    """Record a transition once; False when it was already recorded."""
    if a.recorded_status == to_status:
        return False
    ctx.session.add(AssessmentTransition(**_transition(ctx, a, to_status, by)))
    a.recorded_status = RecordedStatus(to_status)
    return True


def record_status_now(ctx: ServiceContext, a: Assessment | AssessmentRow,
                      to_status: AssessmentStatus, by: str, values: dict[str, Any]) -> None:
    """`record_status` with other columns of the assessment (`values`), written now with one
    Core statement each (`insert_rows_now`, `update_now`), not at the next flush: a participant
    starting or finishing a survey is a hot request, and the unit of work's flush costs
    several times the CPU of the statements it sends. The transition is inserted as a row
    (`insert_rows_now`: no object made and attached, no id read back; nothing in the request
    reads it). An `AssessmentRow` (no object) has its row updated only (`update_row_now`)."""
    if a.recorded_status != to_status:
        insert_rows_now(ctx.session, _TRANSITIONS, [_transition(ctx, a, to_status, by)])
        values = {**values, "recorded_status": RecordedStatus(to_status)}
    if isinstance(a, AssessmentRow):
        update_row_now(ctx.session, Assessment, a.id, values)
    else:
        update_now(ctx.session, a, values)


def _apply_plan(a: Assessment, planned: PlannedAssessment, version: str) -> None:
    a.sequence = planned.sequence
    a.anchor = planned.anchor
    a.protocol_version = version
    a.instruments = list(planned.instruments)
    a.timezone = planned.tz
    a.first_day = planned.first_day
    a.last_day = planned.last_day
    a.window_start = planned.window_start_utc
    a.window_end = planned.window_end_utc


def sync_assessments(ctx: ServiceContext, participant: Participant, *, cause: str,
                     reason: str | None = None) -> list[tuple[str, str]]:
    """Bring the participant's assessments in line with their protocol; returns (action, code)."""
    if participant.status is not ParticipantStatus.enrolled or participant.enrolled_on is None:
        return []
    protocol = protocol_for(participant)
    now = ctx.now()
    plan = plan_assessments(protocol, participant.timezone, participant.enrolled_on,
                            infusion_records(ctx, participant))
    rows = {a.code: a for a in assessments_of(ctx, participant)}
    existing = [
        ExistingAssessment(code=a.code, status=a.status_at(now, grace(ctx)),
                           window_start_utc=a.window_start, window_end_utc=a.window_end,
                           instruments=tuple(a.instruments), ref=a)
        for a in rows.values()
    ]
    done: list[tuple[str, str]] = []
    for decision in plan_amendment(existing, plan, now).decisions:
        if decision.action == "keep":
            if _retag(ctx, decision.existing, decision.planned, cause=cause, reason=reason):
                done.append(("retag", decision.code))
            continue
        row = _row(decision.existing) if decision.existing else rows.get(decision.code)
        why = reason or f"{cause}: {decision.reason}"
        planned = decision.planned
        # plan_amendment closes and cancels existing rows; it closes, creates and replaces
        # with a planned assessment.
        if decision.action == "close":
            assert row is not None
            assert planned is not None
            _close_at_infusion(ctx, row, planned, cause=cause)
        elif decision.action == "cancel":
            assert row is not None
            cancel(ctx, row, (planned and planned.cancelled_reason) or why, cause=cause)
        else:
            assert planned is not None
            _create_or_regenerate(ctx, participant, row, planned, cause=cause, reason=why)
        done.append((decision.action, decision.code))
    return done


def _row(existing: ExistingAssessment) -> Assessment:
    """The row ``existing`` was made from (``assessments_of`` rows go in as its ``ref``)."""
    assert isinstance(existing.ref, Assessment)
    return existing.ref


def _close_at_infusion(ctx: ServiceContext, row: Assessment, planned: PlannedAssessment, *,
                       cause: str) -> None:
    """A started or completed assessment closes at the moment the next infusion was given.

    Only the end moves (earlier); answers and the start stay. The grace period for a survey
    started before that moment counts from it, one started after it gets none (see
    ``derive_status``), and a completion after it reads as late everywhere.
    """
    before = window_view(row)
    row.window_end = planned.window_end_utc
    row.last_day = planned.last_day
    row.window_version += 1
    record_status(ctx, row, row.status_at(ctx.now(), grace(ctx)), by=cause)
    record(ctx, "assessment.close", "assessment", row.id, before=before,
           after=window_view(row), reason=f"{cause}: closes when the next infusion is given",
           study_id=row.study_id, site_id=row.site_id)
    ctx.session.flush()
    events.assessment_changed(ctx, row)


def _retag(ctx: ServiceContext, existing: ExistingAssessment | None,
           planned: PlannedAssessment | None, *, cause: str, reason: str | None) -> bool:
    """A not-started assessment the new version plans identically now follows that version."""
    if existing is None or planned is None or existing.status not in ("scheduled", "open"):
        return False
    row = _row(existing)
    version = str(planned.protocol_version)
    if row.protocol_version == version:
        return False
    before = window_view(row)
    row.protocol_version = version
    record(ctx, "assessment.regenerate", "assessment", row.id, before=before,
           after=window_view(row), reason=reason or f"{cause}: same window in the new version",
           study_id=row.study_id, site_id=row.site_id)
    return True


def _create_or_regenerate(ctx: ServiceContext, participant: Participant, row: Assessment | None,
                          planned: PlannedAssessment, *, cause: str, reason: str) -> Assessment:
    now = ctx.now()
    version = str(planned.protocol_version)
    if row is None:
        row = Assessment(participant=participant, study_id=participant.study_id,
                         site_id=participant.site_id, code=planned.code, recorded_status="new")
        _apply_plan(row, planned, version)
        ctx.session.add(row)
        ctx.session.flush()
        action, before = "assessment.create", None
    else:
        before = window_view(row)
        _apply_plan(row, planned, version)
        row.window_version += 1
        action = "assessment.regenerate"
    # The assessments of an infusion not given exist, cancelled with the site's reason.
    row.cancelled_at = now if planned.cancelled_reason is not None else None
    row.cancel_reason = planned.cancelled_reason
    record_status(ctx, row, row.status_at(now, grace(ctx)), by=cause)
    after = window_view(row)
    if row.cancel_reason is not None:
        after["cancel_reason"] = row.cancel_reason
    record(ctx, action, "assessment", row.id, before=before, after=after,
           reason=reason if before else None, study_id=row.study_id, site_id=row.site_id)
    ctx.session.flush()
    events.assessment_changed(ctx, row)
    return row


def cancel(ctx: ServiceContext, a: Assessment, reason: str, *, cause: str) -> None:
    if a.cancelled_at is not None or a.completed_at is not None or a.started_at is not None:
        return
    a.cancelled_at = ctx.now()
    a.cancel_reason = reason
    record_status(ctx, a, "cancelled", by=cause)
    record(ctx, "assessment.cancel", "assessment", a.id, after={"code": a.code}, reason=reason,
           study_id=a.study_id, site_id=a.site_id)
    events.assessment_changed(ctx, a)


def cancel_open_work(ctx: ServiceContext, participant: Participant) -> None:
    """On withdrawal: every assessment not yet started is cancelled."""
    for a in assessments_of(ctx, participant):
        if a.status_at(ctx.now(), grace(ctx)) in ("scheduled", "open"):
            cancel(ctx, a, f"participant withdrawn: {participant.withdrawal_reason}",
                   cause="withdrawal")
