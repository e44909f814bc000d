"""The demo as a story: the clock walks through the last months day by day, so the demo
has real history made by the real services and jobs: enrolments, infusions given (some a
little late), surveys answered (some late, some missed, one left half done), reminders
sent by the console backend, a withdrawal. Used by `pro demo`; tests use `load_demo`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pro_server.clock import FixedClock
from pro_server.context import ServiceContext
from pro_server.demo import PARTICIPANTS, DemoCredentials, enrol_demo_participant, load_demo
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.planner import planned_infusion_dates
from pro_server.responses.services import save_draft, submit
from pro_server.schedule.assessments import assessments_of, grace, protocol_for
from pro_server.schedule.infusions import get_infusion, record_infusion
from pro_server.studies.models import Site

DAILY_AT = time(15, 0)  # UTC: late morning in Florida
RNG_SEED = 20260106


def load_demo_story(
    new_context: Callable[[FixedClock], ServiceContext],
    run_jobs: Callable[[Callable[[], ServiceContext]], None],
    now: datetime,
) -> list[DemoCredentials]:
    rng = random.Random(RNG_SEED)
    longest = max(row[4] for row in PARTICIPANTS if row[4] < 400)
    walk = FixedClock(datetime.combine((now - timedelta(days=longest + 1)).date(), DAILY_AT,
                                       tzinfo=UTC))
    ctx = new_context(walk)
    credentials = load_demo(ctx, enrol=False)
    study_id = ctx.session.scalar(select(Site.study_id))
    sites = {s.code: s for s in ctx.session.scalars(select(Site))}
    ctx.session.commit()
    day = 0
    while walk.now().date() <= now.date():
        if walk.now() > now:
            walk.set(now)  # the last day ends at the real clock
        today = walk.now().date()
        for n, row in enumerate(PARTICIPANTS, start=1):
            enrol_day = (now - timedelta(days=min(row[4], longest))).date()
            if enrol_day == today:
                enrol_demo_participant(ctx, sites[row[1]].study, sites[row[1]], n, row, today)
        for p in ctx.session.scalars(select(Participant).where(
                Participant.study_id == study_id,
                Participant.status == ParticipantStatus.enrolled)):
            _infusions_due(ctx, p, rng)
            _answer_open_surveys(ctx, p, rng, day)
        ctx.session.commit()
        run_jobs(lambda: new_context(walk))
        walk.advance(timedelta(days=1))
        day += 1
    ctx.session.close()
    return credentials


def _infusions_due(ctx: ServiceContext, p: Participant, rng: random.Random) -> None:
    protocol = protocol_for(p)
    first = get_infusion(ctx, p, 1)
    day0 = first.given_at_local.date() if first and first.given_at_local else None
    # The participant's own local day and time: on the walk's last day the clock is the
    # real one, which may be before 09:30 there (or still yesterday).
    local_now = ctx.now().astimezone(ZoneInfo(p.timezone)).replace(tzinfo=None)
    today = local_now.date()
    given_at_local = min(datetime.combine(today, time(9, 30)), local_now)
    if day0 is None:
        assert p.enrolled_on is not None  # the walk takes enrolled participants only
        if today >= p.enrolled_on + timedelta(days=10):
            record_infusion(ctx, p, 1, status="given", given_at_local=given_at_local)
        return
    for number, planned in planned_infusion_dates(protocol, day0).items():
        if number == 1 or get_infusion(ctx, p, number) is not None:
            continue
        if today >= planned + timedelta(days=rng.choice((0, 0, 1, 2))):
            record_infusion(ctx, p, number, status="given", given_at_local=given_at_local)
        break


def _answer_open_surveys(ctx: ServiceContext, p: Participant, rng: random.Random,
                         day: int) -> None:
    """Each survey gets its own fate: answered on day 0-3 of its window, or missed; one
    participant stops halfway through their Day 7 surveys."""
    registry = default_registry()
    for a in assessments_of(ctx, p):
        if a.status_at(ctx.now(), grace(ctx)) not in ("open", "in_progress"):
            continue
        fate = random.Random(f"{p.subject_key}:{a.code}").choice((0, 0, 1, 1, 1, 2, 3, None))
        if fate is None or (ctx.now().date() - a.first_day).days != fate:
            continue
        severity = max(0.15, 0.7 - 0.002 * day + rng.uniform(-0.05, 0.05))
        answers = {code: example_answers(registry.get(code), rng, severity)
                   for code in a.instruments}
        if p.subject_key == "GNV-003" and a.code.endswith("D7"):
            first = a.instruments[0]
            save_draft(ctx, a, first, answers[first], p.language)
            continue
        submit(ctx, a, f"demo-{a.id}", answers, p.language)
