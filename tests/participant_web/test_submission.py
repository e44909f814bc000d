"""Submitting: stored once whatever is resent; a refused request changes nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pro_server.audit.models import AuditEvent
from pro_server.responses.models import Response, Submission
from tests.participant_web.support import assessment, complete_answers, stored_counts

API = "/api/v1/p"
KEY = "3f2a9c0d5b8e4f1a9c7d6e5b4a3f2e1d"


def _submit(client, a, answers, key=KEY):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/assessments/{a.id}/submission", json={
        "idempotency_key": key, "answers": answers, "language": "en"})


def _audit_count(ctx) -> int:  # type: ignore[no-untyped-def]
    return ctx.session.scalar(select(func.count()).select_from(AuditEvent))


def test_replaying_the_same_submission_50_times_stores_it_once(signed_in, ctx_factory, clock):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    answers = complete_answers(a)
    first = _submit(client, a, answers)
    assert first.status_code == 201
    clock.advance(timedelta(minutes=5))
    replays = [_submit(client, a, answers) for _ in range(49)]
    assert {r.status_code for r in replays} == {200}
    assert all(r.json == first.json for r in replays)
    counts = stored_counts(ctx, a)
    assert (counts["submissions"], counts["responses"]) == (1, len(a.instruments))
    assert counts["completed_at"].isoformat() == "2026-03-01T15:00:00+00:00"
    submits = ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "response.submit"))
    assert submits == len(a.instruments)
    again = _submit(client, a, answers, key="another-key-for-the-same-survey")
    assert again.status_code == 409
    assert again.json["errors"] == {"state": "completed"}


def test_a_resend_after_the_window_closed_still_gets_the_stored_submission(
        signed_in, ctx_factory, clock):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    first = _submit(client, a, complete_answers(a))
    clock.set(a.window_end + timedelta(days=2))
    replay = _submit(client, a, complete_answers(a))
    assert replay.status_code == 200
    assert replay.json == first.json


def _without(answers, instrument, item):  # type: ignore[no-untyped-def]
    answers[instrument].pop(item)
    return answers


REFUSALS = {
    "out of range": (lambda ans: {**ans, "pain_nrs": {"pain_nrs": 11}}, 422, "pain_nrs",
                     "11 is outside 0-10"),
    "VAS out of range": (lambda ans: {**ans, "ptga_vas": {"ptga_vas": 101}}, 422, "ptga_vas",
                         "outside 0-100"),
    "not a whole millimetre": (lambda ans: {**ans, "ptga_vas": {"ptga_vas": 37.5}}, 422,
                               "ptga_vas", "expected an integer"),
    "unknown item": (lambda ans: {**ans, "pain_nrs": {"pain_nrs": 3, "pain_max": 7}}, 422,
                     "pain_nrs", "unknown item id"),
    "unknown option": (lambda ans: {**ans, "haq_di": {**ans["haq_di"], "dress": 4}}, 422,
                       "haq_di", "not an allowed option code"),
    "unknown instrument": (lambda ans: {**ans, "eq5d": {"mobility": 1}}, 422, "answers",
                           "Not part of this assessment"),
    "missing answer": (lambda ans: _without(ans, "haq_di", "dress"), 422, "haq_di", "required"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_invalid_submissions_are_refused_clearly_and_change_nothing(case, signed_in,
                                                                    ctx_factory):
    change, status, field, message = REFUSALS[case]
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    assert client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": "pain_nrs", "answers": {"pain_nrs": 2}, "language": "en"}).status_code == 200
    before, audit = stored_counts(ctx, a), _audit_count(ctx)
    refused = _submit(client, a, change(complete_answers(a)))
    assert refused.status_code == status
    assert message in str(refused.json["errors"]["json"]["answers"])
    assert field in str(refused.json["errors"])
    assert stored_counts(ctx, a) == before
    assert _audit_count(ctx) == audit


@pytest.mark.parametrize(("answers", "message"), [
    ({"pain_nrs": -1}, "outside 0-10"),
    ({"pain_nrs": "7"}, "expected an integer"),
    ({"worst_pain": 7}, "unknown item id"),
])
def test_invalid_saves_are_refused_and_change_nothing(answers, message, signed_in,
                                                      ctx_factory):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    before = stored_counts(ctx, a)
    refused = client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": "pain_nrs", "answers": answers, "language": "en"})
    assert refused.status_code == 422
    assert message in str(refused.json["errors"])
    assert stored_counts(ctx, a) == before
    assert before["started_at"] is None


def test_submissions_outside_the_window_are_refused_and_change_nothing(signed_in, ctx_factory):
    ctx = ctx_factory()
    missed = assessment(ctx, "GNV-001", "BASELINE")  # enrolled 200 days ago, never answered
    client = signed_in("GNV-001")
    before, audit = stored_counts(ctx, missed), _audit_count(ctx)
    refused = _submit(client, missed, complete_answers(missed))
    assert refused.status_code == 409
    assert refused.json["message"] == "This survey's window has closed"
    assert stored_counts(ctx, missed) == before
    assert _audit_count(ctx) == audit


def test_a_submission_that_loses_the_race_to_another_stores_nothing(signed_in, ctx_factory):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    # What a submission sees when another one (another key) commits after it read the
    # survey: the survey not completed yet, but its submission row taken.
    ctx.session.commit()  # a fresh transaction: SQLite cannot upgrade the old read to a write
    ctx.session.add(Submission(assessment_id=a.id, idempotency_key="the-one-that-won-" + "0" * 20,
                               payload_hash="0" * 64, received_at=ctx.now()))
    ctx.session.commit()
    before, audit = stored_counts(ctx, a), _audit_count(ctx)
    lost = _submit(client, a, complete_answers(a))
    assert lost.status_code == 409
    assert lost.json["errors"] == {"state": "completed"}
    assert stored_counts(ctx, a) == before
    assert _audit_count(ctx) == audit


def test_a_key_of_another_survey_is_refused_before_anything_else(signed_in, ctx_factory):
    ctx = ctx_factory()
    taken = assessment(ctx, "GNV-004", "BASELINE")
    assert _submit(signed_in("GNV-004"), taken, complete_answers(taken)).status_code == 201
    a = assessment(ctx, "MIA-004", "BASELINE")
    client = signed_in("MIA-004")
    before, audit = stored_counts(ctx, a), _audit_count(ctx)
    for answers in (complete_answers(a), {}, {"eq5d": {"mobility": 1}}):
        refused = _submit(client, a, answers)
        assert refused.status_code == 409, refused.json
        assert refused.json["message"] == "This idempotency key belongs to another submission"
        assert "errors" not in refused.json
    assert stored_counts(ctx, a) == before
    assert _audit_count(ctx) == audit


def test_the_idempotency_key_and_body_are_checked(signed_in, ctx_factory):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    short = _submit(client, a, complete_answers(a), key="abc")
    assert short.status_code == 422
    assert "idempotency_key" in short.json["errors"]["json"]
    wrong_language = client.post(f"{API}/assessments/{a.id}/submission", json={
        "idempotency_key": KEY, "answers": {}, "language": "fr"})
    assert wrong_language.status_code == 422
    assert stored_counts(ctx, a)["submissions"] == 0


def test_each_stored_answer_keeps_the_time_it_was_given(signed_in, ctx_factory, clock):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    answers = complete_answers(a)
    given = clock.now()
    assert client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": "pain_nrs", "answers": answers["pain_nrs"], "language": "en"}
    ).status_code == 200
    clock.advance(timedelta(minutes=4))
    changed = {**answers["haq_di"], "dress": 1}
    assert client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": "haq_di", "answers": changed, "language": "en"}).status_code == 200
    clock.advance(timedelta(minutes=6))
    answers["haq_di"] = {**changed, "dress": 2}  # changed again on the review screen
    assert _submit(client, a, answers).status_code == 201
    ctx.session.commit()  # see what the server wrote
    stored = {r.instrument_code: r.answers for r in ctx.session.scalars(
        select(Response).where(Response.assessment_id == a.id))}
    assert stored["pain_nrs"]["pain_nrs"]["answered_at"] == given.isoformat()
    assert stored["haq_di"]["shampoo"]["answered_at"] == (given + timedelta(minutes=4)).isoformat()
    assert stored["haq_di"]["dress"] == {"value": 2, "answered_at": clock.now().isoformat()}
    assert stored["ptga_vas"]["ptga_vas"]["answered_at"] == clock.now().isoformat()
