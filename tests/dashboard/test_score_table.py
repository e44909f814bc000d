"""response_score, the table the score report reads, always says what the current response
versions' `scores` JSON says: after a participant's submission, after a staff correction
(approved through the change-request API, or twice on one answer), and after the migration
that creates it fills it from the responses already stored. A row's study and site are its
version's: the database refuses others."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from pro_server.responses.models import Response, ResponseScore
from pro_server.responses.services import correct_answer
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site, Study
from tests.helpers import migrate_again
from tests.participant_web.support import ParticipantClient, complete_answers, token_for

GNV = "coordinator.gnv@example.org"
INVESTIGATOR = "investigator@example.org"

Row = tuple[Any, ...]


def from_json(session) -> set[Row]:  # type: ignore[no-untyped-def]
    """What the table should hold: every score of every current version, from its JSON."""
    rows = session.execute(select(Response, Assessment.code).join(Assessment).where(
        Response.is_current.is_(True))).all()
    return {(r.id, key, r.study_id, r.site_id, code, r.instrument_code,
             None if s["value"] is None else float(s["value"]), r.submitted_at)
            for r, code in rows for key, s in r.scores["scores"].items()}


def from_table(session) -> set[Row]:  # type: ignore[no-untyped-def]
    t = ResponseScore
    rows = session.execute(select(t.response_id, t.score_key, t.study_id, t.site_id,
                                  t.assessment_code, t.instrument_code, t.value,
                                  t.submitted_at)).all()
    assert len(rows) == len(set(rows))
    return {tuple(r) for r in rows}


def current(session, subject_id: int, code: str, instrument: str) -> Response:  # type: ignore[no-untyped-def]
    return session.scalar(select(Response).join(Assessment).where(
        Assessment.participant_id == subject_id, Assessment.code == code,
        Response.instrument_code == instrument, Response.is_current.is_(True)))


def test_a_submission_adds_each_score_of_its_versions(story, app, ctx_factory):
    session = ctx_factory().session
    before = from_table(session)
    assert before == from_json(session)
    assert {r[5] for r in before} >= {"pain_nrs", "ptga_vas", "haq_di", "promis_gh", "rand36"}
    ctx = ctx_factory()
    a = ctx.session.scalar(select(Assessment).where(
        Assessment.participant_id == story.ids["MIA-003"], Assessment.code == "BASELINE"))
    # MIA-003's baseline is open at the story's now and not answered yet.
    assert a.completed_at is None
    client = ParticipantClient(app.test_client())
    assert client.open_session(token_for(ctx, "MIA-003")).status_code == 200
    sent = client.post(f"/api/v1/p/assessments/{a.id}/submission", json={
        "idempotency_key": "b" * 32, "answers": complete_answers(a), "language": "en"})
    assert sent.status_code == 201, sent.json
    session = ctx_factory().session
    after = from_table(session)
    assert after == from_json(session)
    added = after - before
    assert {r[5] for r in added} == set(a.instruments)
    assert {r[4] for r in added} == {"BASELINE"}


def test_a_correction_replaces_the_scores_of_the_version_it_supersedes(story, ctx_factory):
    session = ctx_factory().session
    first = current(session, story.ids["GNV-001"], "BASELINE", "pain_nrs")
    old = first.answers["pain_nrs"]["value"]
    asked = story.client(GNV).post("/api/v1/change-requests", json={
        "response_id": first.id, "item_id": "pain_nrs", "new_value": (old + 3) % 11,
        "reason": "Participant misread the scale", "source": "Phone call, notes"})
    assert asked.status_code == 201, asked.json
    approved = story.client(INVESTIGATOR).post(
        f"/api/v1/change-requests/{asked.json['id']}/approve",
        json={"signature": {"password": story.passwords[INVESTIGATOR],
                            "meaning": "I approve this data change"}})
    assert approved.status_code == 200, approved.json
    ctx = ctx_factory()
    second = ctx.session.get(Response, approved.json["new_response_id"])
    third = correct_answer(ctx, second, "pain_nrs", (old + 5) % 11, reason="Checked again",
                           source="Source notes", approved_by="test")
    ctx.session.commit()
    session = ctx_factory().session
    table = from_table(session)
    assert table == from_json(session)
    assert {r[0] for r in table} & {first.id, second.id} == set()
    assert {(r[1], r[6]) for r in table if r[0] == third.id} == {
        ("pain_nrs", float((old + 5) % 11))}


# The migration that creates the table fills it; the one that gives it one foreign key for
# the version's id, study and site keeps every row.
@pytest.mark.parametrize(("before", "revision"), [("0019_h17enum", "0020_h20score"),
                                                  ("0023_h22idx", "0024_h25db")])
def test_the_migrations_leave_the_table_as_the_stored_responses_say(
        story, engine, ctx_factory, before, revision):
    ctx = ctx_factory()
    response = current(ctx.session, story.ids["MIA-001"], "BASELINE", "rand36")
    item = next(k for k, v in response.answers.items() if v["value"] != 1)
    correct_answer(ctx, response, item, 1, reason="Transcription error", source="Paper form",
                   approved_by="test")
    ctx.session.commit()
    ctx.session.close()
    with ctx_factory().session as session:  # no open transaction may hold the table
        kept = from_table(session)
    assert kept
    migrate_again(engine, before, revision)
    session = ctx_factory().session
    assert from_table(session) == from_json(session) == kept


@pytest.mark.parametrize("other", ["site", "study"])
def test_the_database_refuses_a_score_whose_study_or_site_is_not_its_versions(
        story, ctx_factory, other):
    ctx = ctx_factory()
    version = current(ctx.session, story.ids["GNV-001"], "BASELINE", "pain_nrs")
    row = {"response_id": version.id, "score_key": "extra", "study_id": version.study_id,
           "site_id": version.site_id, "assessment_code": "BASELINE",
           "instrument_code": version.instrument_code, "value": 1.0,
           "submitted_at": version.submitted_at}
    if other == "site":  # a site that exists, of the same study, but not the version's
        wrong = {"site_id": ctx.session.scalar(select(Site.id).where(
            Site.study_id == version.study_id, Site.id != version.site_id))}
    else:
        study = Study(code="OTHER", name="Another study", default_timezone="UTC",
                      protocol_code="other", protocol_version="1", program_name="Other")
        ctx.session.add(study)
        ctx.session.flush()
        wrong = {"study_id": study.id}
    assert None not in wrong.values()
    with pytest.raises(IntegrityError), ctx.session.begin_nested():
        ctx.session.execute(insert(ResponseScore), [{**row, **wrong}])
    ctx.session.execute(insert(ResponseScore), [row])  # the version's own: stored
    assert ctx.session.scalar(select(ResponseScore.site_id).where(
        ResponseScore.response_id == version.id, ResponseScore.score_key == "extra")
    ) == version.site_id
    ctx.session.rollback()
