"""The protocol's rules between the dates hold on every path (issue 14, items 1-4).

Each test is linked from docs/protocol-rules.md.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from pro_server.edc.services import create_client
from pro_server.studies.services import get_study
from tests.factories import enrol_over_api
from tests.participant_web.support import ParticipantClient, assessment, complete_answers, token_for
from tests.schedule.conftest import by_code, give

STUDY = "RES001-DMPM-02"
P = "/api/v1/p"
DOSE = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # 2026-03-05 10:00 in New York (EST)


@pytest.fixture
def participant(app, ctx_factory):
    """`participant("GNV-401")` gives a client with that participant's session open."""

    def make(subject_key: str) -> ParticipantClient:
        client = ParticipantClient(app.test_client())
        assert client.open_session(token_for(ctx_factory(), subject_key)).status_code == 200
        return client

    return make


def _draft(client: ParticipantClient, a) -> int:  # type: ignore[no-untyped-def]
    return client.patch(f"{P}/assessments/{a.id}/draft", json={
        "instrument": "pain_nrs", "answers": {"pain_nrs": 4}, "language": "en"}).status_code


def _submit(client: ParticipantClient, a, key: str):  # type: ignore[no-untyped-def]
    return client.post(f"{P}/assessments/{a.id}/submission", json={
        "idempotency_key": key, "answers": complete_answers(a), "language": "en"})


def _grid_cell(client, subject: str, code: str) -> str:  # type: ignore[no-untyped-def]
    grid = client.get("/api/v1/dashboard/grid").json
    row = next(r for r in grid["rows"] if r["subject_key"] == subject)
    cell = row["cells"].get(code)
    return "absent" if cell is None else "expected" if cell["projected"] else cell["status"]


def _edc_token(ctx_factory) -> str:  # type: ignore[no-untyped-def]
    ctx = ctx_factory()
    _, token = create_client(ctx, get_study(ctx.session, STUDY), "Sponsor EDC",
                             ["scores", "responses", "adherence"])
    ctx.session.commit()
    return token


def _edc_timing(app, token: str, subject: str, code: str) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
    records = app.test_client().get(
        f"/api/v1/edc/studies/{STUDY}/records?limit=1000",
        headers={"Authorization": f"Bearer {token}"}).json["records"]
    return {(r["timing"]["status"], r["timing"]["late_by_seconds"]) for r in records
            if r["subject_key"] == subject and r["assessment"]["code"] == code}


def _adherence(app, token: str, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    text = app.test_client().get(f"/api/v1/edc/studies/{STUDY}/adherence.csv",
                                 headers={"Authorization": f"Bearer {token}"}).text
    return {r["assessment"]: r["status"] for r in csv.DictReader(io.StringIO(text))
            if r["subject_key"] == subject}


# --- 1. a survey started before the next infusion closes at that infusion -----------------


def test_a_baseline_started_before_the_dose_closes_at_the_dose_with_grace_from_it(
        app, gnv, clock, ctx_factory, participant):
    clock.set(DOSE - timedelta(hours=1))  # 09:00 local: both start their baseline
    ids = [enrol_over_api(gnv, key, enrolled_on="2026-02-20") for key in ("GNV-401", "GNV-402")]
    ctx = ctx_factory()
    late, closed = assessment(ctx, "GNV-401", "BASELINE"), assessment(ctx, "GNV-402", "BASELINE")
    first, second = participant("GNV-401"), participant("GNV-402")
    assert _draft(first, late) == 200
    assert _draft(second, closed) == 200
    clock.set(DOSE)
    give(gnv, ids[0], 1, "2026-03-05T10:00")
    rows = by_code(give(gnv, ids[1], 1, "2026-03-05T10:00"))
    assert rows["BASELINE"]["window_end_utc"] == "2026-03-05T15:00:00+00:00"
    assert rows["BASELINE"]["status"] == "in_progress"  # the grace period runs from the dose

    clock.set(DOSE + timedelta(hours=1))  # inside the grace after the dose: accepted, late
    assert _submit(first, late, "late-baseline-401").status_code == 201
    clock.set(DOSE + timedelta(hours=12, minutes=30))  # past the grace after the dose
    refused = _submit(second, closed, "baseline-402-submission")
    assert refused.status_code == 409, refused.json
    assert refused.json["errors"] == {"state": "closed"}

    assert _grid_cell(gnv, "GNV-401", "BASELINE") == "late"
    assert _grid_cell(gnv, "GNV-402", "BASELINE") == "missed"
    assert _edc_timing(app, _edc_token(ctx_factory), "GNV-401", "BASELINE") == {("late", 3600)}


def test_a_day30_survey_started_before_the_next_infusion_closes_at_that_infusion(
        gnv, clock, participant, ctx_factory):
    clock.set(DOSE)
    pid = enrol_over_api(gnv, "GNV-403", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    clock.set(datetime(2026, 4, 1, 14, 0, tzinfo=UTC))  # INF1_D30 open (03-31..04-08)
    a = assessment(ctx_factory(), "GNV-403", "INF1_D30")
    assert _draft(participant("GNV-403"), a) == 200
    clock.set(datetime(2026, 4, 2, 15, 0, tzinfo=UTC))
    rows = by_code(give(gnv, pid, 2, "2026-04-02T11:00"))  # EDT: 15:00 UTC
    assert rows["INF1_D30"]["window_end_utc"] == "2026-04-02T15:00:00+00:00"
    assert rows["INF1_D30"]["last_day"] == "2026-04-02"
    clock.set(datetime(2026, 4, 3, 3, 1, tzinfo=UTC))  # 12 h 1 min after infusion 2
    assert by_code(gnv.get(f"/api/v1/participants/{pid}/schedule").json)[
        "INF1_D30"]["status"] == "missed"


def test_a_baseline_started_after_the_dose_but_before_it_was_recorded_is_not_pre_dose(
        app, gnv, clock, ctx_factory, participant):
    clock.set(DOSE + timedelta(hours=1))  # 11:00 local, an hour after the (unrecorded) dose
    ids = [enrol_over_api(gnv, key, enrolled_on="2026-02-20") for key in ("GNV-404", "GNV-405")]
    ctx = ctx_factory()
    done, started = assessment(ctx, "GNV-404", "BASELINE"), assessment(ctx, "GNV-405", "BASELINE")
    assert _submit(participant("GNV-404"), done, "after-dose-404-submission").status_code == 201
    client = participant("GNV-405")
    assert _draft(client, started) == 200
    clock.set(DOSE + timedelta(hours=4))  # the site records the dose at 14:00
    give(gnv, ids[0], 1, "2026-03-05T10:00")
    rows = by_code(give(gnv, ids[1], 1, "2026-03-05T10:00"))
    # Started after the dose: no grace, the answers are kept (the draft stays) but closed.
    assert rows["BASELINE"]["status"] == "missed"
    assert rows["BASELINE"]["started_at"] is not None
    assert _submit(client, started, "after-dose-405-submission").status_code == 409
    # Completed after the dose: kept, shown and exported as late, never as on time.
    assert _grid_cell(gnv, "GNV-404", "BASELINE") == "late"
    assert _edc_timing(app, _edc_token(ctx_factory), "GNV-404", "BASELINE") == {
        ("late", 3600)}


# --- 2. infusions are given in order -------------------------------------------------------


def test_infusion_2_cannot_be_given_before_infusion_1_is_recorded(gnv, clock):
    clock.set(DOSE)
    pid = enrol_over_api(gnv, "GNV-406", enrolled_on="2026-02-20")
    before = gnv.get(f"/api/v1/participants/{pid}/schedule").json
    response = gnv.put(f"/api/v1/participants/{pid}/infusions/2",
                       json={"status": "given", "given_at_local": "2026-03-05T10:00"})
    assert response.status_code == 422, response.json
    assert response.json["errors"]["json"]["status"] == [
        "Infusion 2 cannot be recorded as given before infusion 1 is recorded as given or"
        " not given"]
    assert gnv.get(f"/api/v1/participants/{pid}/schedule").json == before


def test_planned_dates_keep_the_order_of_the_infusions(gnv, clock):
    clock.set(DOSE)
    pid = enrol_over_api(gnv, "GNV-407", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    early = gnv.put(f"/api/v1/participants/{pid}/infusions/2",
                    json={"status": "planned", "planned_date": "2026-03-01"})
    assert early.status_code == 422, early.json
    assert early.json["errors"]["json"]["planned_date"] == [
        "Infusion 2 (planned on 2026-03-01) must come after infusion 1 (given on 2026-03-05)"]
    assert gnv.put(f"/api/v1/participants/{pid}/infusions/3",
                   json={"status": "planned", "planned_date": "2026-06-01"}).status_code == 200
    after_3 = gnv.put(f"/api/v1/participants/{pid}/infusions/2",
                      json={"status": "planned", "planned_date": "2026-06-10"})
    assert after_3.status_code == 422
    assert "must come after infusion 2" in after_3.json["errors"]["json"]["planned_date"][0]


# --- 3. a not-given infusion's surveys are visible as cancelled, on both paths -------------


def test_not_given_infusion_surveys_show_cancelled_with_the_reason_on_both_paths(
        app, gnv, clock, ctx_factory):
    clock.set(DOSE)
    first_path = enrol_over_api(gnv, "GNV-408", enrolled_on="2026-02-20")
    corrected = enrol_over_api(gnv, "GNV-409", enrolled_on="2026-02-20")
    reason = "Infusion reaction before start; not administered"
    recorded = gnv.put(f"/api/v1/participants/{first_path}/infusions/1",
                       json={"status": "not_given", "reason": reason})
    assert recorded.status_code == 200, recorded.json
    give(gnv, corrected, 1, "2026-03-05T10:00")
    gnv.put(f"/api/v1/participants/{corrected}/infusions/1",
            json={"status": "not_given", "reason": reason})
    token = _edc_token(ctx_factory)
    for pid, subject in ((first_path, "GNV-408"), (corrected, "GNV-409")):
        rows = by_code(gnv.get(f"/api/v1/participants/{pid}/schedule").json)
        for code in ("INF1_D7", "INF1_D30"):
            assert (rows[code]["status"], rows[code]["cancel_reason"]) == ("cancelled", reason)
            assert _grid_cell(gnv, subject, code) == "cancelled"
        adherence = _adherence(app, token, subject)
        assert (adherence["INF1_D7"], adherence["INF1_D30"]) == ("cancelled", "cancelled")


# --- 4. an amendment that would lose a recorded infusion is refused ------------------------


def test_amending_to_a_version_lacking_a_recorded_infusion_is_refused_and_changes_nothing(
        staff_client, gnv, clock, ctx_factory, demo):
    admin = staff_client("admin@example.org")
    clock.set(datetime(2026, 2, 20, 15, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-410", enrolled_on="2026-01-05")
    for number, day in enumerate(["2026-01-06", "2026-01-20", "2026-02-03", "2026-02-10",
                                  "2026-02-17"], start=1):
        give(gnv, pid, number, f"{day}T10:00")
    before = gnv.get(f"/api/v1/participants/{pid}/schedule").json
    response = admin.post(f"/api/v1/studies/{STUDY}/protocol", json={
        "version": 1, "reason": "Back to the abstract's design",
        "signature": {"password": demo["admin@example.org"],
                      "meaning": "I approve applying this protocol amendment"}})
    assert response.status_code == 422, response.json
    messages = response.json["errors"]["json"]["version"]
    assert messages[1:] == ["GNV-410: infusion 5 recorded as given"]
    assert "Protocol version 1 defines infusions 1..4" in messages[0]
    assert gnv.get(f"/api/v1/participants/{pid}/schedule").json == before
    assert get_study(ctx_factory().session, STUDY).protocol_version == "2"


# --- time-zone moves -----------------------------------------------------------------------


def test_a_time_zone_move_regenerates_surveys_not_started_in_the_new_local_days(
        gnv, clock, participant, ctx_factory):
    clock.set(DOSE)
    pid = enrol_over_api(gnv, "GNV-411", enrolled_on="2026-02-20")
    rows = by_code(give(gnv, pid, 1, "2026-03-05T10:00"))
    clock.set(datetime(2026, 3, 10, 15, 0, tzinfo=UTC))  # INF1_D7 open (03-10..03-14)
    a = assessment(ctx_factory(), "GNV-411", "INF1_D7")
    assert _draft(participant("GNV-411"), a) == 200  # started: keeps its window
    moved = gnv.patch(f"/api/v1/participants/{pid}", json={"timezone": "America/Los_Angeles"})
    assert moved.status_code == 200, moved.json
    after = by_code(gnv.get(f"/api/v1/participants/{pid}/schedule").json)
    assert after["INF1_D7"]["window_end_utc"] == rows["INF1_D7"]["window_end_utc"]
    assert after["INF1_D7"]["timezone"] == "America/New_York"
    # Not started: the same local days, now in Los Angeles (midnight PDT is 07:00 UTC).
    assert after["INF1_D30"]["first_day"] == rows["INF1_D30"]["first_day"] == "2026-03-31"
    assert after["INF1_D30"]["timezone"] == "America/Los_Angeles"
    assert after["INF1_D30"]["window_start_utc"] == "2026-03-31T07:00:00+00:00"
