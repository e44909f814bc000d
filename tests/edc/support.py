"""Arranging EDC test data through the real services: enrol, infuse, submit, correct."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pro_server.context import ServiceContext
from pro_server.instruments import default_registry
from pro_server.instruments.answers import item_applies
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.local_time import utc_to_local
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.responses.services import correct_answer, save_draft, submit
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Study
from tests.factories import enrol_participant


def answers_for(d: InstrumentDefinition, rng: random.Random) -> dict[str, Any]:
    """A complete, valid answer set, multi-choice items and their follow-ups included."""
    answers: dict[str, Any] = {}
    for item in d.items:
        if not item_applies(item, answers):
            continue
        if item.type == "multi_choice":
            codes = list(item.option_codes)
            answers[item.id] = rng.sample(codes, rng.randint(0, min(3, len(codes))))
        elif item.type == "single_choice":
            answers[item.id] = rng.choice(item.option_codes)
        else:
            answers[item.id] = rng.randint(item.min, item.max)
    return answers


def enrol(ctx: ServiceContext, study: Study, site_code: str, key: str, *, language: str = "en",
          enrolled_on: date) -> Participant:
    return enrol_participant(ctx, key, study=study, site_code=site_code, language=language,
                             enrolled_on=enrolled_on, sms_consent=False)


def assessment(ctx: ServiceContext, p: Participant, code: str) -> Assessment:
    return ctx.session.scalar(select(Assessment).where(Assessment.participant_id == p.id,
                                                       Assessment.code == code))


def submit_all(ctx: ServiceContext, p: Participant, code: str, seed: int) -> Assessment:
    a = assessment(ctx, p, code)
    rng = random.Random(seed)
    answers = {i: answers_for(default_registry().get(i), rng) for i in a.instruments}
    submit(ctx, a, f"{p.subject_key}-{code}-{seed}", answers, p.language)
    return a


def start_draft(ctx: ServiceContext, p: Participant, code: str) -> Assessment:
    a = assessment(ctx, p, code)
    save_draft(ctx, a, a.instruments[0], {}, p.language)
    return a


def infuse(ctx: ServiceContext, p: Participant, number: int, at: datetime) -> None:
    local = utc_to_local(at, p.timezone).replace(tzinfo=None, microsecond=0)
    record_infusion(ctx, p, number, status="given", given_at_local=local)


def current(ctx: ServiceContext, p: Participant, code: str, instrument: str) -> Response:
    a = assessment(ctx, p, code)
    return ctx.session.scalar(select(Response).where(
        Response.assessment_id == a.id, Response.instrument_code == instrument,
        Response.is_current.is_(True)))


def correct(ctx: ServiceContext, response: Response, item: str, value: Any,
            reason: str = "Participant reported tapping the wrong answer") -> Response:
    return correct_answer(ctx, response, item, value, reason=reason,
                          source="phone call with the participant",
                          approved_by="investigator@example.org")


def day(start: datetime, days: float) -> datetime:
    return start + timedelta(days=days)
