"""Score trends of one participant: the scores the protocol's endpoints use, over time.

Points come from current response versions only (a corrected score replaces the one it
corrects; the old value stays in the response history). Infusions given are listed so a
chart can mark them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.instruments import default_registry
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment, Infusion

# (instrument, score key, lowest, highest, whether a higher score means better health)
SERIES: tuple[tuple[str, str, float, float, bool], ...] = (
    ("pain_nrs", "pain_nrs", 0, 10, False),
    ("ptga_vas", "ptga_mm", 0, 100, False),
    ("haq_di", "haq_di", 0, 3, False),
    ("promis_gh", "gph_t", 10, 80, True),
    ("promis_gh", "gmh_t", 10, 80, True),
    *(("rand36", key, 0, 100, True) for key in (
        "physical_functioning", "role_physical", "role_emotional", "energy_fatigue",
        "emotional_wellbeing", "social_functioning", "pain", "general_health")),
)


def score_label(instrument: str, key: str) -> tuple[str, str | None]:
    definition = default_registry().get(instrument)
    spec = next(s for s in definition.scores if s.key == key)
    prefix = "RAND-36: " if instrument == "rand36" else ""
    return prefix + spec.label["en"], spec.unit


def trends(session: Session, participant: Participant) -> dict[str, Any]:
    responses = session.execute(
        select(Response.instrument_code, Response.scores, Response.submitted_at,
               Response.version, Response.id, Assessment.code)
        .join(Assessment, Assessment.id == Response.assessment_id)
        .where(Response.participant_id == participant.id, Response.is_current.is_(True))
        .order_by(Response.submitted_at)
    ).all()
    series = []
    for instrument, key, low, high, higher_is_better in SERIES:
        label, unit = score_label(instrument, key)
        points = []
        for r in responses:
            if r.instrument_code != instrument or key not in r.scores["scores"]:
                continue
            score = r.scores["scores"][key]
            points.append({"at": r.submitted_at, "assessment_code": r.code,
                           "value": score["value"], "reason": score["reason"],
                           "version": r.version, "response_id": r.id})
        series.append({"instrument": instrument, "key": key, "label": label, "unit": unit,
                       "min": low, "max": high, "higher_is_better": higher_is_better,
                       "points": points})
    return {"participant_id": participant.id, "series": series,
            "infusions": infusions_given(session, participant)}


def infusions_given(session: Session, participant: Participant) -> list[dict[str, Any]]:
    rows = session.scalars(select(Infusion).where(
        Infusion.participant_id == participant.id, Infusion.status == "given",
    ).order_by(Infusion.number))
    return [{"number": i.number, "at": i.given_at} for i in rows]

