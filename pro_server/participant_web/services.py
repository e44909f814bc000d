"""What the participant's pages show and do, on top of the schedule and responses services.

Participants see dates and states, never scores. Every instant goes out in UTC with the
participant's time zone beside it; the page formats it in that zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from pro_server.context import ServiceContext
from pro_server.errors import NotFound
from pro_server.instruments import default_registry
from pro_server.local_time import utc_to_local
from pro_server.participant_web.access import ParticipantRef
from pro_server.participant_web.burden import expected_minutes, percent_done
from pro_server.participant_web.engagement import latest_position, position
from pro_server.participants import reminder_channels
from pro_server.participants.links import LinkHolder
from pro_server.participants.models import Participant
from pro_server.protocol.status import ACCEPTS_RESPONSES, AssessmentStatus
from pro_server.responses.models import Draft, Submission
from pro_server.responses.services import DraftRow, drafts_of, save_draft
from pro_server.schedule.assessments import AssessmentRow, assessments_of, grace
from pro_server.schedule.models import Assessment, Visit
from pro_server.view_model import Read

# What the page calls each status (the page has one screen per state).
STATES: Mapping[str, str] = {
    "open": "open", "in_progress": "open", "scheduled": "not_open",
    "missed": "closed", "completed": "completed", "cancelled": "cancelled",
}
UPCOMING_SHOWN = 3
HISTORY_SHOWN = 10
PUBLIC_DEFINITION_KEYS = ("code", "version", "language", "title", "instructions",
                          "recall_period", "attribution", "sections", "items")


def own_assessment(ctx: ServiceContext, p: Participant | ParticipantRef,
                   assessment_id: int) -> Assessment:
    """The participant's own assessment; anyone else's looks exactly like a missing one."""
    a = ctx.session.get(Assessment, assessment_id)
    if a is None or a.participant_id != p.id:
        raise NotFound("Survey not found")
    return a


def own_visit(ctx: ServiceContext, p: Participant, visit_id: int) -> Visit:
    v = ctx.session.get(Visit, visit_id)
    if v is None or v.participant_id != p.id:
        raise NotFound("Visit not found")
    return v


@dataclass(frozen=True)
class Instant:
    """An instant for the page (`InstantSchema`): in UTC and in the participant's zone;
    `end_of_day` names the local day that ends at it (24:00)."""

    utc: datetime
    tz: str

    @property
    def at(self) -> str:
        return self.utc.isoformat()

    @property
    def local(self) -> str:
        return utc_to_local(self.utc, self.tz).isoformat()

    @property
    def end_of_day(self) -> str | None:
        local = utc_to_local(self.utc, self.tz)
        midnight = local.hour == 0 and local.minute == 0
        return (local.date() - timedelta(days=1)).isoformat() if midnight else None


def _local_date(at: datetime | None, tz: str) -> str | None:
    return None if at is None else utc_to_local(at, tz).date().isoformat()


@dataclass(frozen=True)
class CompletedSurvey(Read):
    """An assessment in the participant's history (`HistorySchema`): dates, never scores."""

    model: Assessment
    timezone: str

    @property
    def completed_on(self) -> str | None:
        return _local_date(self.model.completed_at, self.timezone)


@dataclass(frozen=True)
class SurveyRead(CompletedSurvey):
    """An assessment as the participant's page shows it (`AssessmentSummarySchema`).
    `percent_done` is read with the drafts when the survey was started, else None."""

    status: AssessmentStatus
    grace: timedelta
    percent_done: int | None

    @property
    def state(self) -> str:
        return STATES[self.status]

    @property
    def opens(self) -> Instant:
        return Instant(self.model.window_start, self.timezone)

    @property
    def closes(self) -> Instant:
        return Instant(self.model.window_end, self.timezone)

    @property
    def finish_by(self) -> Instant | None:
        a = self.model
        return Instant(a.window_end + self.grace, self.timezone) if a.started_at else None

    @property
    def instrument_count(self) -> int:
        return len(self.model.instruments)

    @property
    def expected_minutes(self) -> int:
        return expected_minutes([default_registry().get(c) for c in self.model.instruments])


def _survey(ctx: ServiceContext, a: Assessment, status: AssessmentStatus,
            tz: str) -> SurveyRead:
    done = None
    if status == "in_progress":
        definitions = [default_registry().get(code) for code in a.instruments]
        done = percent_done(definitions, {
            code: d.answers for code, d in drafts_of(ctx, a).items()})
    return SurveyRead(a, tz, status, grace(ctx), done)


@dataclass(frozen=True)
class ParticipantVisitRead(Read):
    """A visit as the participant's page shows it (`VisitSchema`): a join link only when
    it is https."""

    model: Visit
    timezone: str

    @property
    def starts(self) -> Instant:
        return Instant(self.model.starts_at, self.timezone)

    @property
    def join_url(self) -> str | None:
        url = self.model.join_url
        return url if url and url.startswith("https://") else None

    @property
    def calendar_url(self) -> str:
        return f"/api/v1/p/visits/{self.model.id}/calendar.ics"


@dataclass(frozen=True)
class SessionRead(Read):
    """The signed-in participant (`SessionSchema`) and the CSRF token to send from now on;
    `LinkHolder` when the session was just opened from a link."""

    model: Participant | LinkHolder
    csrf_token: str


@dataclass(frozen=True)
class NotificationsRead(Read):
    """The participant's reminder channels and whether push can be turned on
    (`NotificationsSchema`)."""

    model: Participant
    available: bool
    public_key: str | None
    devices: int

    @property
    def reminder_channels(self) -> list[str]:
        return [c.value for c in reminder_channels.parse(self.model.reminder_channels)]



@dataclass(frozen=True)
class HomeRead(Read):
    """The participant's home page (`HomeSchema`); `contact` is the participant
    (`ContactSchema` reads their study and site)."""

    model: Participant
    now: str
    due: list[SurveyRead]
    upcoming: list[SurveyRead]
    visits: list[ParticipantVisitRead]
    history: list[CompletedSurvey]

    @property
    def contact(self) -> Participant:
        return self.model


def home(ctx: ServiceContext, p: Participant) -> HomeRead:
    now, tz = ctx.now(), p.timezone
    rows = [(a, a.status_at(now, grace(ctx))) for a in assessments_of(ctx, p)]
    due = [_survey(ctx, a, s, tz) for a, s in rows if s in ACCEPTS_RESPONSES]
    upcoming = [_survey(ctx, a, s, tz) for a, s in rows if s == "scheduled"]
    upcoming.sort(key=lambda row: row.opens.at)
    done = sorted((a for a, s in rows if s == "completed"), key=lambda a: a.completed_at or now,
                  reverse=True)
    visits = ctx.session.scalars(
        select(Visit).where(Visit.participant_id == p.id, Visit.status == "scheduled",
                            Visit.starts_at > now - timedelta(hours=1))
        .order_by(Visit.starts_at).limit(5))
    return HomeRead(p, now=now.isoformat(), due=due, upcoming=upcoming[:UPCOMING_SHOWN],
                    visits=[ParticipantVisitRead(v, tz) for v in visits],
                    history=[CompletedSurvey(a, tz) for a in done[:HISTORY_SHOWN]])


def _public_definition(code: str, lang: str) -> dict[str, Any]:
    public = default_registry().get(code).to_public_dict(lang)
    return {key: public[key] for key in PUBLIC_DEFINITION_KEYS}


def _position(drafts: Mapping[str, Draft]) -> str | None:
    """The screen saved last, to resume there."""
    kept = latest_position(d.position for d in drafts.values())
    return kept["screen"] if kept else None


@dataclass(frozen=True)
class SurveyDetailRead(SurveyRead):
    """One survey for the participant's page (`AssessmentSchema`): while open its
    questions in `language`, the answers saved (instrument -> item -> value) and the
    screen to resume at."""

    language: str
    instruments: list[dict[str, Any]]
    answers: dict[str, dict[str, Any]]
    position: str | None


def survey(ctx: ServiceContext, p: Participant, a: Assessment, lang: str) -> SurveyDetailRead:
    summary = _survey(ctx, a, a.status_at(ctx.now(), grace(ctx)), p.timezone)
    instruments: list[dict[str, Any]] = []
    answers: dict[str, dict[str, Any]] = {}
    resume_at = None
    if summary.state == "open":
        drafts = drafts_of(ctx, a)
        instruments = [_public_definition(code, lang) for code in a.instruments]
        answers = {code: {item: entry["value"] for item, entry in d.answers.items()}
                   for code, d in drafts.items()}
        resume_at = _position(drafts)
    return SurveyDetailRead(a, summary.timezone, summary.status, summary.grace,
                            summary.percent_done, lang, instruments, answers, resume_at)


def save_answers(ctx: ServiceContext, a: Assessment | AssessmentRow, instrument: str,
                 answers: Mapping[str, Any], language: str, screen: str | None,
                 page: int | None = None, pages: int | None = None, *,
                 drafts: Mapping[str, Draft | DraftRow] | None = None) -> dict[str, Any]:
    """Save answers as they are given; the screen reached (and its page number, for the
    coordinator's "stopped at page N of M") is kept to resume there. `drafts`: the
    assessment's drafts when read with it (`access.standing_survey`)."""
    drafts = drafts_of(ctx, a) if drafts is None else drafts
    seqs = [d.position.get("seq", 0) for d in drafts.values() if isinstance(d.position, dict)]
    kept = position(screen, max(seqs, default=0) + 1, page, pages) if screen else (
        drafts[instrument].position if instrument in drafts else None)
    draft = save_draft(ctx, a, instrument, answers, language, kept, drafts=drafts)
    return {"instrument": instrument, "saved_at": draft.updated_at.isoformat(),
            "answers": draft.answers}


@dataclass(frozen=True)
class SubmissionRead(Read):
    """A stored submission as the participant's page reads it (`SubmissionOutSchema`)."""

    model: Submission
    timezone: str
    state: str = "completed"

    @property
    def received(self) -> Instant:
        return Instant(self.model.received_at, self.timezone)
