"""The participant API: home, own surveys only, answers saved as given, window rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import icalendar

from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.visits import schedule_visit
from tests.participant_web.support import assessment, complete_answers, participant, stored_counts

API = "/api/v1/p"


def _draft(client, a, instrument, answers, screen=None):  # type: ignore[no-untyped-def]
    return client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": instrument, "answers": answers, "language": "en", "screen": screen})


def _submit(client, a, answers, key="k" * 32):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/assessments/{a.id}/submission", json={
        "idempotency_key": key, "answers": answers, "language": "en"})


def test_home_says_what_is_due_and_until_when_and_never_shows_scores(signed_in, ctx_factory):
    client = signed_in("GNV-004")
    ctx = ctx_factory()
    home = client.get(f"{API}/home").json
    assert [a["code"] for a in home["due"]] == ["BASELINE"]
    assert home["due"][0]["closes"] == {"at": "2026-04-03T04:00:00+00:00",
                                        "local": "2026-04-03T00:00:00-04:00",
                                        "end_of_day": "2026-04-02"}
    assert home["timezone"] == "America/New_York"
    assert home["history"] == []
    baseline = assessment(ctx, "GNV-004", "BASELINE")
    assert _submit(client, baseline, complete_answers(baseline)).status_code == 201
    home = client.get(f"{API}/home").json
    assert home["due"] == []
    assert home["history"] == [{"id": baseline.id, "code": "BASELINE",
                                "completed_on": "2026-03-01"}]
    assert "score" not in json.dumps(home)
    assert "score" not in json.dumps(client.get(f"{API}/assessments/{baseline.id}").json)


def test_upcoming_visits_with_a_calendar_file_in_the_participant_s_zone(signed_in, ctx_factory):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    visit = schedule_visit(ctx, p, starts_at_local=datetime(2026, 3, 10, 10, 0), mode="video",
                           join_url="https://video.example.org/room/42")
    ctx.session.commit()
    client = signed_in("GNV-004")
    [shown] = client.get(f"{API}/home").json["visits"]
    assert shown["starts"]["local"] == "2026-03-10T10:00:00-04:00"  # DST began on March 8
    assert shown["join_url"] == "https://video.example.org/room/42"
    response = client.get(f"{shown['calendar_url']}?lang=es")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Visita del estudio (videollamada)"
    assert event.decoded("dtstart").isoformat() == "2026-03-10T10:00:00-04:00"
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    assert f"visit-{visit.id}@127.0.0.1" in str(event["uid"])


def test_another_participant_s_ids_are_404_for_every_call(signed_in, ctx_factory):
    ctx = ctx_factory()
    theirs = assessment(ctx, "GNV-003", "BASELINE")
    visit = schedule_visit(ctx, participant(ctx, "GNV-003"),
                           starts_at_local=datetime(2026, 3, 10, 10, 0), mode="phone")
    ctx.session.commit()
    before = stored_counts(ctx, theirs)
    client = signed_in("GNV-004")
    calls = [
        client.get(f"{API}/assessments/{theirs.id}"),
        _draft(client, theirs, "pain_nrs", {"pain_nrs": 3}),
        _submit(client, theirs, complete_answers(theirs)),
        client.get(f"{API}/visits/{visit.id}/calendar.ics"),
        client.get(f"{API}/assessments/999999"),
    ]
    assert [c.status_code for c in calls] == [404] * 5
    assert calls[0].json["message"] == calls[4].json["message"] == "Survey not found"
    assert stored_counts(ctx, theirs) == before


def test_answers_are_saved_as_given_each_with_its_own_time_and_resume_there(
        signed_in, ctx_factory, clock):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    client = signed_in("GNV-004")
    first = _draft(client, a, "pain_nrs", {"pain_nrs": 4}, "ptga_vas:ptga_vas")
    assert first.status_code == 200
    clock.advance(timedelta(minutes=3))
    _draft(client, a, "haq_di", {"dress": 1}, "haq_di:dress")
    clock.advance(timedelta(minutes=3))
    _draft(client, a, "haq_di", {"dress": 1, "shampoo": 2}, "haq_di:stand_up")
    view = client.get(f"{API}/assessments/{a.id}?lang=es").json
    assert view["status"] == "in_progress"
    assert view["state"] == "open"
    assert view["answers"] == {"pain_nrs": {"pain_nrs": 4}, "haq_di": {"dress": 1, "shampoo": 2}}
    assert view["position"] == "haq_di:stand_up"
    assert view["instruments"][0]["title"] == "Intensidad del dolor (escala numérica de 0 a 10)"
    haq = _draft(client, a, "haq_di", {}).json["answers"]
    assert haq["dress"]["answered_at"] == "2026-03-01T15:03:00+00:00"
    assert haq["shampoo"]["answered_at"] == "2026-03-01T15:06:00+00:00"
    assert client.get(f"{API}/assessments/{a.id}").json["position"] == "haq_di:stand_up"


def test_no_survey_opens_outside_its_window(signed_in, ctx_factory):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    record_infusion(ctx, p, 1, status="given", given_at_local=datetime(2026, 3, 1, 9, 30))
    ctx.session.commit()
    client = signed_in("GNV-004")
    closed, not_open = assessment(ctx, "GNV-004", "BASELINE"), assessment(ctx, "GNV-004",
                                                                          "INF1_D7")
    assert client.get(f"{API}/assessments/{closed.id}").json["state"] == "closed"
    view = client.get(f"{API}/assessments/{not_open.id}").json
    assert view["state"] == "not_open"
    assert view["instruments"] == []
    assert view["opens"]["local"] == "2026-03-06T00:00:00-05:00"
    for a, state in ((closed, "closed"), (not_open, "scheduled")):
        before = stored_counts(ctx, a)
        refused = _draft(client, a, "pain_nrs", {"pain_nrs": 3})
        assert refused.status_code == 409
        assert refused.json["errors"] == {"state": state}
        refused = _submit(client, a, complete_answers(a))
        assert refused.status_code == 409
        assert refused.json["errors"] == {"state": state}
        assert stored_counts(ctx, a) == before


def test_a_survey_started_in_its_window_can_be_finished_during_the_grace_period(
        signed_in, ctx_factory, clock, app):
    ctx = ctx_factory()
    grace = timedelta(hours=app.extensions["pro"]["settings"].submit_grace_hours)
    started, late = assessment(ctx, "GNV-004", "BASELINE"), assessment(ctx, "MIA-004",
                                                                       "BASELINE")
    gnv, mia = signed_in("GNV-004"), signed_in("MIA-004")
    assert _draft(gnv, started, "pain_nrs", {"pain_nrs": 3}).status_code == 200
    assert _draft(mia, late, "pain_nrs", {"pain_nrs": 3}).status_code == 200
    clock.set(started.window_end + grace - timedelta(minutes=1))
    assert gnv.get(f"{API}/home").json["due"][0]["finish_by"]["at"] == (
        started.window_end + grace).isoformat()
    assert _draft(gnv, started, "pain_nrs", {"pain_nrs": 4}).status_code == 200
    assert _submit(gnv, started, complete_answers(started)).status_code == 201
    clock.set(late.window_end + grace)
    refused = _submit(mia, late, complete_answers(late), key="m" * 32)
    assert refused.status_code == 409
    assert refused.json["errors"] == {"state": "closed"}
