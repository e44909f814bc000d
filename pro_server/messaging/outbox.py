"""Keeping the outbox in step with the schedule: planned rows in, unwanted rows cancelled.

The pure planner says which messages a survey window or a visit calls for; this module
turns them into rows (one per channel) under their deduplication key. Planning again is
always safe: a key already present is updated, never duplicated. Every change here is a
conditional UPDATE on `status = 'pending'`, so a row a dispatcher has already claimed
(`sending`) is never touched from under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pro_server.context import ServiceContext
from pro_server.db import rows_changed
from pro_server.errors import Conflict
from pro_server.messaging import planning
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.policy import policy_for
from pro_server.messaging.purposes import (
    REPLY_PURPOSES,
    SURVEY_PURPOSES,
    VISIT_PURPOSES,
    MessageStatus,
    Purpose,
    TargetKind,
)
from pro_server.messaging.quiet_hours import parse_hhmm
from pro_server.participants import reminder_channels
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.participants.reminder_channels import Channel
from pro_server.schedule.assessments import assessments_of, grace
from pro_server.schedule.models import Assessment, Visit

PENDING = MessageStatus.PENDING.value
VISIT_REMINDERS = frozenset({Purpose.VISIT_REMINDER_24H, Purpose.VISIT_REMINDER_1H})


def channels_for(purpose: Purpose | str, p: Participant) -> tuple[Channel, ...]:
    """Replies are SMS only; everything else goes on the participant's first chosen channel
    (the dispatcher falls back to the next) and appears on the participant's page."""
    if Purpose(purpose) in REPLY_PURPOSES:
        return (Channel.SMS,)
    return (reminder_channels.first(p.reminder_channels), Channel.WEB)


def key_of(participant_id: int, channel: Channel | str, m: planning.PlannedMessage) -> str:
    return planning.dedup_key(participant_id, m.purpose, m.target_kind, m.target_id,
                              m.occurrence, channel=channel)


# -- writing rows --------------------------------------------------------------------------


def _insert_ignoring_duplicates(ctx: ServiceContext, rows: Sequence[dict]) -> None:
    """INSERT ... ON CONFLICT (dedup_key) DO NOTHING: a concurrent planner may win a key."""
    if not rows:
        return
    dialect = ctx.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ctx.session.execute(
        insert(OutboxMessage).values(list(rows)).on_conflict_do_nothing(
            index_elements=["dedup_key"])
    )


def _new_row(ctx: ServiceContext, p: Participant, channel: Channel | str,
             m: planning.PlannedMessage) -> dict:
    now = ctx.now()
    return {
        "participant_id": p.id, "study_id": p.study_id, "site_id": p.site_id,
        "channel": str(channel), "purpose": str(m.purpose), "target_kind": str(m.target_kind),
        "target_id": int(m.target_id), "occurrence": m.occurrence,
        "dedup_key": key_of(p.id, channel, m), "language": p.language, "status": PENDING,
        "due_at": m.due_utc, "expires_at": m.expires_utc, "next_attempt_at": m.due_utc,
        "attempts": 0, "included_opt_out": False, "outcome_unknown": False,
        "needs_review": False, "fallback_of_id": None,
        "status_updated_at": now, "created_at": now, "updated_at": now,
    }


def _set_pending(ctx: ServiceContext, ids: Iterable[int], **values: object) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return rows_changed(ctx.session, (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
        .values(updated_at=ctx.now(), **values)
        .execution_options(synchronize_session="fetch")
    ))


def cancel(ctx: ServiceContext, reason: str, *conditions: ColumnElement[bool]) -> int:
    """Cancel the pending rows that meet `conditions`, in one UPDATE (a submission cancels
    its survey's reminders inside the participant's request: no SELECT of ids first)."""
    now = ctx.now()
    return rows_changed(ctx.session, (
        update(OutboxMessage)
        .where(OutboxMessage.status == PENDING, *conditions)
        .values(updated_at=now, status=MessageStatus.CANCELLED, status_reason=reason,
                status_updated_at=now, next_attempt_at=None)
        .execution_options(synchronize_session="fetch")
    ))


_OUTBOX = cast(Table, OutboxMessage.__table__)
_CANCEL_FOR_TARGET = (  # `cancel` of one target's rows, built once; the values bound per call
    update(_OUTBOX)
    .where(_OUTBOX.c.status == PENDING, _OUTBOX.c.target_kind == bindparam("kind"),
           _OUTBOX.c.target_id == bindparam("target"))
    .values(updated_at=bindparam("now", type_=_OUTBOX.c.updated_at.type),
            status=MessageStatus.CANCELLED, status_reason=bindparam("reason"),
            status_updated_at=bindparam("now"), next_attempt_at=None))


def cancel_for_target(ctx: ServiceContext, kind: TargetKind, target_id: int, reason: str) -> int:
    """`cancel` of the target's pending rows, with a Core statement built once: a submission
    cancels its survey's reminders inside the participant's request, where building the
    ORM's UPDATE and matching its RETURNING ids against the session cost more CPU than the
    UPDATE itself. The target's rows this session has loaded are expired (read again when
    next used), so none is seen as it was before, as after the ORM's UPDATE; other loaded
    rows are left as they are (a batch job cancelling many targets reloads nothing else)."""
    ctx.session.flush()  # changes made before come first, as the ORM's UPDATE autoflushes
    changed = cast(CursorResult[Any], ctx.session.execute(_CANCEL_FOR_TARGET, {
        "kind": kind.value, "target": target_id, "reason": reason, "now": ctx.now()}))
    for obj in list(ctx.session.identity_map.values()):
        loaded = obj.__dict__  # read without loading: an expired row is read again anyway
        if (isinstance(obj, OutboxMessage) and loaded.get("target_id") == target_id
                and loaded.get("target_kind") == kind.value):
            ctx.session.expire(obj)
    return changed.rowcount


def cancel_for_participant(ctx: ServiceContext, p: Participant, reason: str) -> int:
    return cancel(ctx, reason, OutboxMessage.participant_id == p.id)


def sync_target(
    ctx: ServiceContext,
    p: Participant,
    kind: TargetKind,
    target_id: int,
    planned: Sequence[planning.PlannedMessage],
    *,
    managed: frozenset[Purpose],
    keep_due_occurrence: int | None = None,
    keep_due_any: bool = False,
    kept_expire_at: datetime | None = None,
) -> None:
    """Make the target's rows of the `managed` purposes match `planned`.

    Planned keys are inserted, or updated when pending, or re-opened when cancelled (a
    visit moved back to its first time). Pending rows no longer planned are cancelled,
    except rows already due (the planner does not re-plan the past; the dispatcher decides
    about them when it sends): all of them with `keep_due_any`, or those of the
    occurrence `keep_due_occurrence`. Kept rows get `kept_expire_at` when given; one whose
    event is then already past is not kept: deleted when it was planned in this same
    instant (a back-dated enrolment: nothing anyone saw), cancelled otherwise.
    """
    now = ctx.now()
    wanted = {key_of(p.id, channel, m): (channel, m)
              for m in planned for channel in channels_for(m.purpose, p)}
    rows = ctx.session.execute(
        select(OutboxMessage.id, OutboxMessage.dedup_key, OutboxMessage.status,
               OutboxMessage.purpose, OutboxMessage.occurrence, OutboxMessage.due_at,
               OutboxMessage.expires_at, OutboxMessage.created_at)
        .where(OutboxMessage.participant_id == p.id, OutboxMessage.target_kind == kind.value,
               OutboxMessage.target_id == target_id)
    ).all()
    existing = {r.dedup_key: r for r in rows}
    to_cancel: list[int] = []
    passed: list[int] = []
    unseen: list[int] = []
    for r in rows:
        if r.dedup_key in wanted:
            m = wanted[r.dedup_key][1]
            if r.status == PENDING and (r.due_at, r.expires_at) != (m.due_utc, m.expires_utc):
                _set_pending(ctx, [r.id], due_at=m.due_utc, expires_at=m.expires_utc,
                             next_attempt_at=m.due_utc)
            elif r.status == MessageStatus.CANCELLED:
                _reopen(ctx, r.id, m)
            continue
        if r.status != PENDING or Purpose(r.purpose) not in managed:
            continue
        already_due = r.due_at <= now
        if already_due and (keep_due_any or r.occurrence == keep_due_occurrence):
            if kept_expire_at is not None and kept_expire_at <= now:
                (unseen if r.created_at >= now else passed).append(r.id)
                continue
            if kept_expire_at is not None and r.expires_at != kept_expire_at:
                _set_pending(ctx, [r.id], expires_at=kept_expire_at)
            continue
        to_cancel.append(r.id)
    _set_pending(ctx, to_cancel, status=MessageStatus.CANCELLED.value,
                 status_reason="no longer planned (schedule changed)",
                 status_updated_at=now, next_attempt_at=None)
    _set_pending(ctx, passed, status=MessageStatus.CANCELLED.value,
                 status_reason="what it was about ended before it was sent",
                 status_updated_at=now, next_attempt_at=None)
    if unseen:
        ctx.session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_(unseen),
                                        OutboxMessage.status == PENDING,
                                        OutboxMessage.attempts == 0)
            .execution_options(synchronize_session="fetch"))
    _insert_ignoring_duplicates(ctx, [_new_row(ctx, p, channel, m)
                                      for key, (channel, m) in wanted.items()
                                      if key not in existing])


def _reopen(ctx: ServiceContext, row_id: int, m: planning.PlannedMessage) -> None:
    ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == MessageStatus.CANCELLED.value)
        .values(status=PENDING, status_reason=None, due_at=m.due_utc, expires_at=m.expires_utc,
                next_attempt_at=m.due_utc, status_updated_at=ctx.now(), updated_at=ctx.now())
        .execution_options(synchronize_session="fetch")
    )


# -- what the schedule's events call for ---------------------------------------------------


def _announced(ctx: ServiceContext, a: Assessment) -> datetime | None:
    """When the window-opened notice went (or is going) out, if it did: then it is not
    planned again and nothing else is planned on its local day."""
    return ctx.session.scalar(
        select(OutboxMessage.due_at).where(
            OutboxMessage.participant_id == a.participant_id,
            OutboxMessage.target_kind == TargetKind.ASSESSMENT.value,
            OutboxMessage.target_id == a.id,
            OutboxMessage.purpose == Purpose.WINDOW_OPENED.value,
            OutboxMessage.status != MessageStatus.CANCELLED.value,
            ~and_(OutboxMessage.status == PENDING, OutboxMessage.due_at > ctx.now()),
        ).order_by(OutboxMessage.due_at).limit(1)
    )


def plan_assessment(ctx: ServiceContext, a: Assessment) -> None:
    """(Re)plan a survey's messages; a completed or cancelled survey gets none."""
    if a.completed_at is not None or a.cancelled_at is not None:
        why = "survey completed" if a.completed_at is not None else "survey cancelled"
        cancel_for_target(ctx, TargetKind.ASSESSMENT, a.id, why)
        return
    p = a.participant  # read only when needed: a submission's request has not loaded it
    if p.status is not ParticipantStatus.enrolled:
        cancel_for_target(ctx, TargetKind.ASSESSMENT, a.id, f"participant {p.status.value}")
        return
    planned = planning.plan_survey_window(
        a.id, a.window_start, a.window_end, p.timezone, parse_hhmm(p.reminder_time),
        policy_for(p), ctx.now(), announced_utc=_announced(ctx, a),
    )
    sync_target(ctx, p, TargetKind.ASSESSMENT, a.id, planned, managed=SURVEY_PURPOSES,
                keep_due_any=True, kept_expire_at=a.window_end)


def plan_visit(ctx: ServiceContext, visit: Visit, change: str) -> None:
    """`change` is "scheduled", "rescheduled", "cancelled" or "replan" (time zone changed)."""
    p = visit.participant
    now = ctx.now()
    rules = policy_for(p)
    occurrence = planning.visit_occurrence(visit.starts_at)
    if change == "cancelled" or p.status is not ParticipantStatus.enrolled:
        why = "visit cancelled" if change == "cancelled" else "participant not enrolled"
        cancel_for_target(ctx, TargetKind.VISIT, visit.id, why)
        if change == "cancelled" and p.status is ParticipantStatus.enrolled:
            notice = planning.plan_visit_cancellation(visit.id, visit.starts_at, p.timezone,
                                                      rules, now)
            _insert_ignoring_duplicates(ctx, [_new_row(ctx, p, channel, m) for m in notice
                                              for channel in channels_for(m.purpose, p)])
        return
    if change == "rescheduled":
        planned = planning.plan_visit_change(visit.id, visit.starts_at, p.timezone, rules, now)
        sync_target(ctx, p, TargetKind.VISIT, visit.id, planned, managed=VISIT_PURPOSES)
        return
    planned = planning.plan_visit(visit.id, visit.starts_at, p.timezone, rules, now)
    sync_target(ctx, p, TargetKind.VISIT, visit.id, planned, managed=VISIT_REMINDERS,
                keep_due_occurrence=occurrence)


def replan_participant(ctx: ServiceContext, p: Participant) -> None:
    """After a time zone or reminder time change: every open survey and future visit."""
    now = ctx.now()
    for a in assessments_of(ctx, p):
        if a.completed_at is None and a.cancelled_at is None and a.window_end > now:
            plan_assessment(ctx, a)
    for visit in ctx.session.scalars(select(Visit).where(
            Visit.participant_id == p.id, Visit.status == "scheduled", Visit.starts_at > now)):
        plan_visit(ctx, visit, "replan")
    ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.participant_id == p.id, OutboxMessage.status == PENDING)
        .values(language=p.language)
        .execution_options(synchronize_session="fetch")
    )


# -- messages not planned from the schedule ------------------------------------------------


def queue_fallback(ctx: ServiceContext, row: OutboxMessage, channel: Channel) -> None:
    """The same message on `channel`, due now, because `row`'s channel could not deliver.
    Under its own deduplication key: queued once, however often this runs."""
    m = planning.PlannedMessage(Purpose(row.purpose), TargetKind(row.target_kind),
                                row.target_id, row.occurrence, row.due_at, row.expires_at)
    new = _new_row(ctx, row.participant, channel, m)
    new.update(next_attempt_at=ctx.now(), fallback_of_id=row.id)
    _insert_ignoring_duplicates(ctx, [new])
    # The key may exist, cancelled when the participant chose another channel: reopened.
    now = ctx.now()
    ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedup_key == new["dedup_key"],
               OutboxMessage.status == MessageStatus.CANCELLED.value)
        .values(status=PENDING, status_reason=None, next_attempt_at=now,
                fallback_of_id=row.id, status_updated_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch"))


def queue_reply(ctx: ServiceContext, p: Participant, purpose: Purpose, inbound_id: int) -> None:
    """A HELP answer or an opt-out/opt-in confirmation, once per inbound message."""
    now = ctx.now()
    m = planning.PlannedMessage(purpose, TargetKind.PARTICIPANT, p.id, inbound_id, now, None)
    _insert_ignoring_duplicates(ctx, [_new_row(ctx, p, Channel.SMS, m)])


def open_assessment(ctx: ServiceContext, p: Participant) -> Assessment | None:
    """The participant's survey that can be answered now, the one closing first."""
    now = ctx.now()
    open_now = [a for a in assessments_of(ctx, p)
                if a.status_at(now, grace(ctx)) in ("open", "in_progress")]
    return min(open_now, key=lambda a: a.window_end, default=None)


def queue_remind_now(ctx: ServiceContext, p: Participant) -> list[OutboxMessage]:
    """A reminder for the open survey, due now; the dispatcher still applies opt-out and
    quiet hours. Requests within the same minute are one reminder."""
    if p.status is not ParticipantStatus.enrolled:
        raise Conflict(f"The participant is {p.status.value}")
    a = open_assessment(ctx, p)
    if a is None:
        raise Conflict("The participant has no survey open now")
    now = ctx.now()
    expires = a.window_end if now < a.window_end else a.window_end + grace(ctx)
    occurrence = int(now.timestamp()) // 60 * 60
    m = planning.PlannedMessage(Purpose.SURVEY_REMINDER, TargetKind.ASSESSMENT, a.id,
                                occurrence, now, expires)
    _insert_ignoring_duplicates(ctx, [_new_row(ctx, p, channel, m)
                                      for channel in channels_for(m.purpose, p)])
    keys = [key_of(p.id, channel, m) for channel in channels_for(m.purpose, p)]
    return list(ctx.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.in_(keys)).order_by(OutboxMessage.id)))


def web_notices(ctx: ServiceContext, p: Participant) -> list[OutboxMessage]:
    """What the participant's page can list: web notices sent and not yet past their event."""
    now = ctx.now()
    return list(ctx.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.participant_id == p.id,
            OutboxMessage.channel == Channel.WEB.value,
            OutboxMessage.status == MessageStatus.SENT.value,
            (OutboxMessage.expires_at.is_(None)) | (OutboxMessage.expires_at > now),
        ).order_by(OutboxMessage.sent_at.desc())
    ))
