"""Who may open a participant session, and whether a session still stands (no Flask here).

A session rests on one link: when that link expires or is revoked, or the participant is
no longer enrolled, the session ends at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session, defer, load_only

from pro_server.audit.services import event_row, record_rows
from pro_server.context import Actor, ServiceContext
from pro_server.db import update_row_now
from pro_server.participant_web import engagement, second_factor
from pro_server.participants.links import LINK_BY_TOKEN, LinkHolder, live_link_row
from pro_server.participants.models import Participant, ParticipantLink, ParticipantStatus
from pro_server.responses.models import Draft
from pro_server.responses.services import DRAFT_ROW_COLUMNS, DraftRow
from pro_server.schedule.assessments import AssessmentRow
from pro_server.schedule.models import Assessment


@dataclass(frozen=True)
class Outcome:
    """What opening a session gave. `state` is None on success, else why not."""

    state: str | None
    participant: LinkHolder | None = None
    link_id: int | None = None
    kind: str | None = None  # the second factor asked for, when one is
    language: str | None = None  # so the second-factor page speaks the participant's language

    @property
    def ok(self) -> bool:
        return self.state is None

    @property
    def failed_attempt(self) -> bool:
        """Counts against the caller's rate limit (asking for the factor does not)."""
        return self.state in ("link_expired", "second_factor_wrong", "second_factor_locked")


@dataclass(frozen=True)
class ParticipantRef:
    """The session's participant as a request that only acts as them needs it (who they
    are, for the audit trail): two columns, not the whole row."""

    id: int
    subject_key: str


def participant_actor(p: Participant | ParticipantRef | LinkHolder) -> Actor:
    return Actor(type="participant", id=str(p.id), label=p.subject_key)


def participant_active(p: Participant | LinkHolder | None) -> bool:
    return p is not None and p.status is ParticipantStatus.enrolled


# Whether a session stands: its participant still enrolled, its link live.
_STANDS = (Participant.id == bindparam("participant_id"),
           Participant.status == ParticipantStatus.enrolled,
           ParticipantLink.id == bindparam("link_id"), ParticipantLink.revoked_at.is_(None),
           ParticipantLink.expires_at > bindparam("now"))
# Built once (a participant request runs it first thing); the values are bound per call.
_STANDING = (
    select(Participant)
    # Contact data is decrypted when read: not on every request, only if a route reads it.
    .options(defer(Participant.phone), defer(Participant.email))
    .join(ParticipantLink, ParticipantLink.participant_id == Participant.id)
    .where(*_STANDS))
# The same check with one of the participant's assessments and its drafts (a row per
# draft; the assessment's columns None when it is not theirs). Built once. Plain Core on the
# tables, rows not objects (`AssessmentRow`, `DraftRow`: loading ORM objects cost a draft
# save a tenth of its CPU), and only the columns a draft save reads.
_P, _L = cast(Table, Participant.__table__).c, cast(Table, ParticipantLink.__table__).c
_A, _D = cast(Table, Assessment.__table__).c, cast(Table, Draft.__table__).c
_ASSESSMENT_COLUMNS = tuple(_A[f.name] for f in fields(AssessmentRow))
_STANDING_SURVEY = (
    select(_P.id, _P.subject_key, *_ASSESSMENT_COLUMNS, *DRAFT_ROW_COLUMNS)
    .select_from(cast(Table, Participant.__table__))
    .join(cast(Table, ParticipantLink.__table__), _L.participant_id == _P.id)
    .outerjoin(cast(Table, Assessment.__table__), (_A.id == bindparam("assessment_id"))
               & (_A.participant_id == _P.id))
    .outerjoin(cast(Table, Draft.__table__), _D.assessment_id == _A.id)
    .where(_P.id == bindparam("participant_id"), _P.status == ParticipantStatus.enrolled,
           _L.id == bindparam("link_id"), _L.revoked_at.is_(None),
           _L.expires_at > bindparam("now")))
_A_END = 2 + len(_ASSESSMENT_COLUMNS)


@dataclass(frozen=True)
class StandingSurvey:
    """A standing session's participant, and one assessment if it is theirs (else None)
    with its drafts by instrument."""

    participant: ParticipantRef
    assessment: AssessmentRow | None
    drafts: dict[str, DraftRow]


def standing_participant(session: Session, participant_id: Any, link_id: Any,
                         now: datetime) -> Participant | None:
    """The session's participant if still enrolled and its link still stands, else None.

    One statement: every participant request asks this before anything else. Phone and
    email are left unread (deferred): decrypting them costs every request CPU, and a route
    that needs them reads them then."""
    if not isinstance(participant_id, int) or not isinstance(link_id, int):
        return None
    return session.scalar(_STANDING, {"participant_id": participant_id, "link_id": link_id,
                                      "now": now})


def standing_survey(session: Session, participant_id: Any, link_id: Any, now: datetime,
                    assessment_id: int) -> StandingSurvey | None:
    """`standing_participant` and the participant's assessment with its drafts, in one
    statement (`StandingSurvey`), or None when the session no longer stands. For a draft
    save, the participant's most frequent request: it needs the participant only to act as
    them, and the assessment and its drafts in any case; one round trip, not two."""
    if not isinstance(participant_id, int) or not isinstance(link_id, int):
        return None
    rows = session.execute(_STANDING_SURVEY, {
        "participant_id": participant_id, "link_id": link_id, "now": now,
        "assessment_id": assessment_id}).all()
    if not rows:
        return None
    first = rows[0]
    assessment = None if first[2] is None else AssessmentRow(*first[2:_A_END])
    drafts = {} if first[_A_END] is None else {
        row[_A_END + 1]: DraftRow(*row[_A_END:]) for row in rows}
    return StandingSurvey(ParticipantRef(first[0], first[1]), assessment, drafts)


# The same check for a submission (`_STANDS`, as `_STANDING_SURVEY`), with the participant's
# time zone (the answer shows the submission's instant in it), the assessment as an object
# (a submission changes it) with the columns a draft save reads and the two more a
# submission reads (its versions' rows and export texts), and of its drafts only their
# answers: the drafts are deleted, so no object is made of them. Built once.
_STANDING_SUBMISSION = (
    select(Participant.id, Participant.subject_key, Participant.timezone, Assessment,
           Draft.instrument_code, Draft.answers)
    .options(load_only(*(getattr(Assessment, f.name) for f in fields(AssessmentRow)),
                       Assessment.participant_id, Assessment.timezone))
    .select_from(Participant)
    .join(ParticipantLink, ParticipantLink.participant_id == Participant.id)
    .outerjoin(Assessment, (Assessment.id == bindparam("assessment_id"))
               & (Assessment.participant_id == Participant.id))
    .outerjoin(Draft, Draft.assessment_id == Assessment.id)
    .where(*_STANDS))


@dataclass(frozen=True)
class StandingSubmission:
    """A standing session's participant and time zone, and one assessment if it is theirs
    (else None) with its drafts' answers by instrument."""

    participant: ParticipantRef
    timezone: str
    assessment: Assessment | None
    drafted: dict[str, Any]


def standing_submission(session: Session, participant_id: Any, link_id: Any, now: datetime,
                        assessment_id: int) -> StandingSubmission | None:
    """`standing_survey` for a submission (`StandingSubmission`), in one statement: the
    session check, the assessment and its drafts in one round trip, not two."""
    if not isinstance(participant_id, int) or not isinstance(link_id, int):
        return None
    found = session.execute(_STANDING_SUBMISSION, {
        "participant_id": participant_id, "link_id": link_id, "now": now,
        "assessment_id": assessment_id}).all()
    return StandingSubmission(
        ParticipantRef(found[0][0], found[0][1]), found[0][2], found[0][3],
        {row[4]: row[5] for row in found if row[4] is not None}) if found else None


# The link, its participant and their study's second-factor setting: one statement.
_OPENING = second_factor.with_study_setting(LINK_BY_TOKEN)


def open_session(ctx: ServiceContext, token: str, answer: str | None) -> Outcome:
    row = live_link_row(ctx, _OPENING, token)
    if row is None or not participant_active(row[1]):
        return Outcome("link_expired")
    link_id, participant, (found,) = row
    kind = second_factor.setting(found)
    if kind != "none":
        secret = second_factor.secret_of(ctx, participant)
        lang = participant.language
        if secret is None or secret.kind != kind:
            return Outcome("second_factor_not_set", kind=kind, language=lang)
        if not answer:
            return Outcome("second_factor_required", kind=kind, language=lang)
        result = second_factor.check(ctx, participant, secret, answer)
        if result != "ok":
            state = "second_factor_locked" if result == "locked" else "second_factor_wrong"
            return Outcome(state, kind=kind, language=lang)
    # Written with one Core statement each (no unit of work), like a draft save.
    update_row_now(ctx.session, ParticipantLink, link_id, {"last_used_at": ctx.now()})
    engagement.record_link_open(ctx, participant.id, link_id)
    session_ctx = ctx if ctx.actor.type == "participant" else _as(ctx, participant)
    record_rows(ctx, [event_row(
        session_ctx, "participant.session_open", "participant", participant.id,
        after={"link": link_id}, study_id=participant.study_id, site_id=participant.site_id)])
    return Outcome(None, participant, link_id)


def _as(ctx: ServiceContext, participant: LinkHolder) -> ServiceContext:
    return ServiceContext(session=ctx.session, clock=ctx.clock,
                          actor=participant_actor(participant), settings=ctx.settings,
                          events=ctx.events, request_id=ctx.request_id)
