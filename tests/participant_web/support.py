"""Arranging participant-page data through the real services (API and browser tests)."""

from __future__ import annotations

import random
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_server.context import ServiceContext
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.participants.links import issue_link
from pro_server.participants.models import Participant
from pro_server.responses.models import Draft, Response, Submission
from pro_server.schedule.models import Assessment
from tests.helpers import CsrfClient


def participant(ctx: ServiceContext, subject_key: str) -> Participant:
    return ctx.session.scalar(select(Participant).where(Participant.subject_key == subject_key))


def assessment(ctx: ServiceContext, subject_key: str, code: str) -> Assessment:
    p = participant(ctx, subject_key)
    return ctx.session.scalar(select(Assessment).where(
        Assessment.participant_id == p.id, Assessment.code == code))


def token_for(ctx: ServiceContext, subject_key: str) -> str:
    """A fresh link's token (the part after '#'), committed."""
    url = issue_link(ctx, participant(ctx, subject_key))
    ctx.session.commit()
    return url.split("#", 1)[1]


def complete_answers(a: Assessment, seed: int = 7) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    return {code: example_answers(default_registry().get(code), rng) for code in a.instruments}


def stored_counts(ctx: ServiceContext, a: Assessment) -> dict[str, Any]:
    """What is stored about an assessment, to show that a refused request changed nothing."""
    ctx.session.commit()  # end the read snapshot, so what the server wrote since is seen
    ctx.session.expire_all()
    fresh = ctx.session.get(Assessment, a.id)
    drafts = ctx.session.scalars(select(Draft).where(Draft.assessment_id == a.id)).all()
    return {
        "submissions": ctx.session.scalar(select(func.count()).select_from(Submission).where(
            Submission.assessment_id == a.id)),
        "responses": ctx.session.scalar(select(func.count()).select_from(Response).where(
            Response.assessment_id == a.id)),
        "drafts": sorted((d.instrument_code, str(d.answers)) for d in drafts),
        "started_at": fresh.started_at,
        "completed_at": fresh.completed_at,
        "recorded_status": fresh.recorded_status,
    }


class ParticipantClient(CsrfClient):
    """A test client holding a participant session and sending the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__(client, client.get("/api/v1/auth/csrf").json["csrf_token"])

    def open_session(self, token: str, second_factor: str | None = None):
        body: dict[str, Any] = {"token": token}
        if second_factor is not None:
            body["second_factor"] = second_factor
        response = self.post("/api/v1/p/session", json=body)
        if response.status_code == 200:
            self.csrf_token = response.json["csrf_token"]
        return response


