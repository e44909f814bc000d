"""Issue 16 item 2: what a participant did, in time only (link opened, survey started, the page
they stopped at, sent), recorded without a statement per answer and shown to the study team."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pro_server.participant_web.engagement import facts
from pro_server.participant_web.models import LinkOpen
from pro_server.responses.models import Draft
from tests.participant_web.support import (
    ParticipantClient,
    assessment,
    complete_answers,
    participant,
    stored_counts,
    token_for,
)
from tests.statements import counted

API = "/api/v1/p"
GNV = "coordinator.gnv@example.org"
MIA = "coordinator.mia@example.org"


def _did(ctx_factory, subject_key: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    ctx = ctx_factory()
    return [(f.what, f.at, f.code, f.page, f.pages, f.review)
            for f in facts(ctx, participant(ctx, subject_key))]


def _save(client, a, instrument, answers, **position):  # type: ignore[no-untyped-def]
    response = client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": instrument, "answers": answers, "language": "en", **position})
    assert response.status_code == 200, response.json
    return response


def test_opening_a_link_records_when_it_was_opened_and_nothing_more(
        app, demo, ctx_factory, clock):
    token = token_for(ctx_factory(), "GNV-004")
    clock.advance(timedelta(minutes=38))
    client = ParticipantClient(app.test_client())
    assert client.open_session("A" * 22).status_code == 401  # not a link: nothing recorded
    assert client.open_session(token).status_code == 200
    opened = clock.now()
    clock.advance(timedelta(minutes=5))
    assert client.get(f"{API}/session").status_code == 200  # the same session: not a new open
    assert client.get(f"{API}/home").status_code == 200

    assert _did(ctx_factory, "GNV-004") == [("link_opened", opened, None, None, None, False)]
    ctx = ctx_factory()
    (row,) = ctx.session.scalars(select(LinkOpen)).all()
    assert row.participant_id == participant(ctx, "GNV-004").id
    # Time and link only: no address, browser or answer.
    assert set(LinkOpen.__table__.columns.keys()) == {
        "id", "participant_id", "link_id", "opened_at"}


def test_a_survey_stopped_at_the_page_saved_last_then_sent(signed_in, ctx_factory, clock):
    client = signed_in("GNV-004")
    opened = clock.now()
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    answers = complete_answers(a)
    first, second = a.instruments[:2]
    clock.advance(timedelta(minutes=1))
    started = clock.now()
    _save(client, a, first, answers[first], screen=f"{first}:1", page=1, pages=40)
    clock.advance(timedelta(minutes=9))
    _save(client, a, second, answers[second], screen=f"{second}:1", page=12, pages=40)
    clock.advance(timedelta(minutes=2))
    _save(client, a, first, answers[first])  # an answer saved with no screen keeps the page
    last_saved = clock.now()

    assert _did(ctx_factory, "GNV-004") == [
        ("link_opened", opened, None, None, None, False),
        ("started", started, "BASELINE", None, None, False),
        ("stopped", last_saved, "BASELINE", 12, 40, False),
    ]
    # Resuming still opens the screen reached last.
    assert client.get(f"{API}/assessments/{a.id}").json["position"] == f"{second}:1"

    clock.advance(timedelta(minutes=3))
    response = client.post(f"{API}/assessments/{a.id}/submission", json={
        "idempotency_key": "engagement-submit-0001", "answers": answers, "language": "en"})
    assert response.status_code == 201, response.json
    assert [(f[0], f[1]) for f in _did(ctx_factory, "GNV-004")] == [
        ("link_opened", opened), ("started", started), ("submitted", clock.now())]


def test_stopping_on_the_review_page_and_a_page_that_sent_no_number(signed_in, ctx_factory):
    client = signed_in("GNV-004")
    a = assessment(ctx_factory(), "GNV-004", "BASELINE")
    first = a.instruments[0]
    _save(client, a, first, {}, screen=f"{first}:1")  # a page from before page numbers
    assert _did(ctx_factory, "GNV-004")[-1][3:] == (None, None, False)
    _save(client, a, first, {}, screen="review", page=40, pages=40)
    assert _did(ctx_factory, "GNV-004")[-1][3:] == (40, 40, True)


@pytest.mark.parametrize(("position", "field", "message"), [
    ({"screen": "pain_nrs:1", "page": 3}, "pages", "Send page and pages together"),
    ({"screen": "pain_nrs:1", "pages": 40}, "page", "Send page and pages together"),
    ({"page": 3, "pages": 40}, "screen", "A page number needs the screen it is"),
    ({"screen": "pain_nrs:1", "page": 41, "pages": 40}, "page", "Page 41 is beyond the 40 pages"),
    ({"screen": "pain_nrs:1", "page": 0, "pages": 40}, "page", None),
    ({"screen": "pain_nrs:1", "page": 1, "pages": 100_000}, "pages", None),
])
def test_a_page_number_that_makes_no_sense_is_refused_and_nothing_is_saved(
        signed_in, ctx_factory, position, field, message):
    client = signed_in("GNV-004")
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    first = a.instruments[0]
    before = stored_counts(ctx, a)
    response = client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": first, "answers": complete_answers(a)[first], "language": "en",
        **position})
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    assert stored_counts(ctx, a) == before


def test_the_coordinator_timeline_shows_what_the_participant_did(
        signed_in, staff_client, ctx_factory, clock, engine):
    client = signed_in("GNV-004")
    opened = clock.now()
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    first = a.instruments[0]
    clock.advance(timedelta(minutes=2))
    _save(client, a, first, complete_answers(a)[first], screen=f"{first}:1", page=3, pages=40)
    pid = participant(ctx, "GNV-004").id

    coordinator = staff_client(GNV)
    with counted(engine) as sent:
        data = coordinator.get(f"/api/v1/participants/{pid}/timeline").json
    # The participant's doings are read without their answers.
    assert [s for s in sent if re.search(r"\bdraft\.answers\b", s)] == [], sent
    did = [(e["title"], e["detail"]) for e in data["events"] if e["kind"] == "activity"]
    assert did == [("Link opened", None), ("Survey BASELINE started", None),
                   ("Survey BASELINE stopped at page 3 of 40", "still open")]
    (baseline,) = [e for e in data["events"] if e["ref"].get("code") == "BASELINE"
                   and e["kind"] == "assessment"]
    assert [(f["what"], f["at"]) for f in baseline["ref"]["activity"]] == [
        ("link_opened", opened.isoformat()), ("started", clock.now().isoformat()),
        ("stopped", clock.now().isoformat())]
    # Only answers' times and a page number: no answer reaches the timeline.
    assert "answers" not in str(data["events"])
    assert staff_client(MIA).get(f"/api/v1/participants/{pid}/timeline").status_code == 404


def test_saving_answers_with_a_page_number_adds_no_table_or_row(signed_in, ctx_factory):
    """Where a survey stopped rides on the draft the save writes anyway."""
    client = signed_in("GNV-004")
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    first = a.instruments[0]
    for page in (1, 2, 3):
        _save(client, a, first, {}, screen=f"{first}:{page}", page=page, pages=40)
    ctx.session.commit()
    assert ctx.session.scalar(select(func.count()).select_from(Draft)) == 1
    assert ctx.session.scalar(select(func.count()).select_from(LinkOpen)) == 1
    draft = ctx.session.scalar(select(Draft))
    assert draft.position == {"screen": f"{first}:3", "seq": 3, "page": 3, "pages": 40}
