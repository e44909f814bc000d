"""A small, exact history for dashboard tests, made by the real services in time order.

The clock walks forward from 200 days before NOW to NOW (the test START), so every fact
is stamped when it happened. At NOW (Sunday 2026-03-01, 10:00 in Florida):

- GNV-001: 3 infusions; BASELINE, INF1_D7, INF2_D30, INF3_D7 on time, INF1_D30 late, INF2_D7
  missed; a free-text "stop" reply and a message left for review.
- GNV-002: infusion 1; BASELINE on time, INF1_D7 missed 25 days ago, INF1_D30 open (closes
  in 4 days); a failed text.
- GNV-003: no infusion; BASELINE started, not finished; opted out of texts.
- GNV-004: infusion 1 eight days ago; BASELINE on time; INF1_D7 closes within 48 hours;
  number flagged invalid.
- GNV-005 screening (no surveys); GNV-006 withdrawn (BASELINE cancelled).
- MIA-001: infusion 1; BASELINE, INF1_D7, INF1_D30 on time. MIA-002: infusion 1; INF1_D7
  missed 3 days ago. MIA-003: enrolled 5 days ago, BASELINE open.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from pro_server.context import ServiceContext
from pro_server.demo import enrol_demo_participant, load_demo
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.local_time import local_to_utc
from pro_server.messaging import inbound, outcomes, sms_state
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.purposes import MessageStatus
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.responses.services import save_draft, submit
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site
from tests.conftest import START
from tests.helpers import StaffClient

NOW = START
TZ = "America/New_York"
TODAY = date(2026, 3, 1)  # NOW's local date


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


@dataclass(frozen=True)
class Plan:
    subject: str
    site: str
    language: str
    status: ParticipantStatus
    enrolled: int  # local day offset from TODAY
    infusions: dict[int, int]  # number -> local day offset
    on_time: dict[str, int]  # assessment code -> day of its window it is answered on
    late: tuple[str, ...] = ()  # started on the last day, finished in the grace period
    started: tuple[str, ...] = ()  # started, never finished


PLANS = [
    Plan("GNV-001", "GNV", "en", ParticipantStatus.enrolled, -200, {1: -190, 2: -100, 3: -10},
         {"BASELINE": 1, "INF1_D7": 1, "INF2_D30": 1, "INF3_D7": 1}, late=("INF1_D30",)),
    Plan("GNV-002", "GNV", "es", ParticipantStatus.enrolled, -40, {1: -30}, {"BASELINE": 2}),
    Plan("GNV-003", "GNV", "en", ParticipantStatus.enrolled, -12, {}, {}, started=("BASELINE",)),
    Plan("GNV-004", "GNV", "en", ParticipantStatus.enrolled, -10, {1: -8}, {"BASELINE": 1}),
    Plan("GNV-005", "GNV", "es", ParticipantStatus.screening, -3, {}, {}),
    Plan("GNV-006", "GNV", "en", ParticipantStatus.withdrawn, -90, {}, {}),
    Plan("MIA-001", "MIA", "es", ParticipantStatus.enrolled, -60, {1: -50},
         {"BASELINE": 1, "INF1_D7": 0, "INF1_D30": 2}),
    Plan("MIA-002", "MIA", "en", ParticipantStatus.enrolled, -20, {1: -12}, {"BASELINE": 1}),
    Plan("MIA-003", "MIA", "es", ParticipantStatus.enrolled, -5, {}, {}),
]
# Days after the anchor on which each window opens (protocol v2); BASELINE opens on enrolment.
WINDOW_OPENS = {"D7": 5, "D30": 26}


def local(offset: int, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(datetime.combine(day(offset), time(hour, minute)), TZ)


def _window_first_day(plan: Plan, code: str) -> int:
    if code == "BASELINE":
        return plan.enrolled
    infusion, suffix = code[3], code.split("_")[1]
    return plan.infusions[int(infusion)] + WINDOW_OPENS[suffix]


def _window_last_day(plan: Plan, code: str) -> int:
    return _window_first_day(plan, code) + (4 if code.endswith("D7") else 8)


Step = tuple[datetime, int, Callable[[ServiceContext], None]]


def _steps(plan: Plan, study_site: Callable[[str], Site], n: int) -> list[Step]:
    rng = random.Random(plan.subject)

    def participant(ctx: ServiceContext) -> Participant:
        return ctx.session.scalar(select(Participant).where(
            Participant.subject_key == plan.subject))

    def assessment(ctx: ServiceContext, code: str) -> Assessment:
        p = participant(ctx)
        return ctx.session.scalar(select(Assessment).where(
            Assessment.participant_id == p.id, Assessment.code == code))

    def answers(a: Assessment) -> dict:
        return {code: example_answers(default_registry().get(code), rng, 0.6)
                for code in a.instruments}

    def enrol(ctx: ServiceContext) -> None:
        site = study_site(plan.site)
        row = (plan.subject, plan.site, plan.language, plan.status, -plan.enrolled)
        enrol_demo_participant(ctx, site.study, site, n, row, day(plan.enrolled))

    def infuse(number: int, offset: int) -> Callable[[ServiceContext], None]:
        return lambda ctx: record_infusion(
            ctx, participant(ctx), number, status="given",
            given_at_local=datetime.combine(day(offset), time(9, 30)))

    def answer(code: str) -> Callable[[ServiceContext], None]:
        def run(ctx: ServiceContext) -> None:
            a = assessment(ctx, code)
            submit(ctx, a, f"story-{a.id}", answers(a), plan.language)
        return run

    def start(code: str) -> Callable[[ServiceContext], None]:
        def run(ctx: ServiceContext) -> None:
            a = assessment(ctx, code)
            first = a.instruments[0]
            save_draft(ctx, a, first, answers(a)[first], plan.language)
        return run

    steps: list[Step] = [(local(plan.enrolled, 8), 0, enrol)]
    steps += [(local(offset, 10), 1, infuse(number, offset))
              for number, offset in plan.infusions.items()]
    steps += [(local(_window_first_day(plan, code) + k, 12), 2, answer(code))
              for code, k in plan.on_time.items()]
    for code in plan.late:
        last = _window_last_day(plan, code)
        steps += [(local(last, 23), 2, start(code)), (local(last + 1, 2), 3, answer(code))]
    steps += [(NOW - timedelta(days=2), 2, start(code)) for code in plan.started]
    return steps


def _contact_events(ctx: ServiceContext) -> None:
    """Opt-out, a flagged number, a reply that may mean stop, a failed and a stuck text."""
    def p(key: str) -> Participant:
        return ctx.session.scalar(select(Participant).where(Participant.subject_key == key))

    sms_state.opt_out(ctx, p("GNV-003"), "SMS reply 'STOP'")
    sms_state.flag_phone(ctx, p("GNV-004"), "invalid_number", "Twilio 21211")
    inbound.receive(ctx, {"MessageSid": "SMstory0001", "From": p("GNV-001").phone,
                          "Body": "I don't want these messages anymore"})
    for key, status, review in (("GNV-002", MessageStatus.FAILED, None),
                                ("GNV-001", MessageStatus.SENDING, "Interrupted while sending")):
        row = ctx.session.scalars(select(OutboxMessage).where(
            OutboxMessage.participant_id == p(key).id, OutboxMessage.channel == "sms",
        ).order_by(OutboxMessage.due_at.desc())).first()
        outcomes.finish(ctx, row, status, "Twilio 30003: unreachable handset", review=review)
        row.last_error_code = "30003" if status is MessageStatus.FAILED else None


@dataclass
class Story:
    passwords: dict[str, str]
    ids: dict[str, int]
    client: Callable[[str], StaffClient]
    app_client: Callable[[], object]


def build_story(app, clock, ctx_factory, snapshots, engine, settings  # type: ignore[no-untyped-def]
                ) -> Story:
    def build() -> tuple[dict[str, str], dict[str, int]]:
        clock.set(local(-201, 8))
        ctx = ctx_factory()
        passwords = {c.email: c.password for c in load_demo(ctx, enrol=False)}
        ctx.session.commit()
        sites = {s.code: s for s in ctx.session.scalars(select(Site))}
        steps = sorted((s for n, plan in enumerate(PLANS, start=1)
                        for s in _steps(plan, sites.__getitem__, n)), key=lambda s: (s[0], s[1]))
        for at, _order, action in steps:
            clock.set(at)
            action(ctx)
            ctx.session.commit()
        clock.set(local(-1, 9))
        _contact_events(ctx)
        ctx.session.commit()
        clock.set(NOW)
        ids = dict(ctx.session.execute(select(Participant.subject_key, Participant.id)).all())
        ctx.session.close()
        return passwords, ids

    passwords, ids = snapshots.world("story", engine, settings, clock, build)

    def client(email: str) -> StaffClient:
        return StaffClient.login(app.test_client(), email, passwords[email])

    return Story(passwords, ids, client, app.test_client)


@pytest.fixture
def story(app, clock, ctx_factory, snapshots, engine, settings) -> Story:
    return build_story(app, clock, ctx_factory, snapshots, engine, settings)
