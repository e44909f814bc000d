"""Study-wide reports: weekly completion and score distributions, through the staff API.

Completion is read against the story (tests/dashboard/story.py); score distributions
against baselines answered with known pain and PtGA values.
"""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest
from sqlalchemy import select

from pro_server.dashboard.reports import distribution
from pro_server.dashboard.trends import SERIES
from pro_server.demo import load_demo
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.responses.services import correct_answer, submit
from pro_server.schedule.models import Assessment
from tests.dashboard.story import local
from tests.factories import enrol_participant
from tests.helpers import StaffClient
from tests.helpers import csv_download as csv_rows

GNV = "coordinator.gnv@example.org"
MIA = "coordinator.mia@example.org"
MONITOR = "monitor@example.org"
COMPLETION = "/api/v1/dashboard/reports/completion"
SCORES = "/api/v1/dashboard/reports/scores"


def row(report: dict, week: str, site: str | None, code: str | None) -> dict:
    found = [r for r in report["rows"] if (r["week"], r["site_code"], r["assessment_code"])
             == (week, site, code)]
    assert len(found) == 1, (week, site, code)
    return found[0]


# --- completion by week ------------------------------------------------------------------------

def test_completion_counts_each_settled_survey_in_the_week_its_window_closed(story):
    report = story.client(MONITOR).get(COMPLETION).get_json()
    assert report["timezone"] == "America/New_York"
    assert [s["code"] for s in report["sites"]] == ["GNV", "MIA"]
    # MIA-002's INF1_D7 closed Thursday 2026-02-26 unanswered; GNV-001's INF3_D7 was answered.
    assert row(report, "2026-W09", None, None) == {
        "week": "2026-W09", "week_starts": "2026-02-23", "site_code": None,
        "assessment_code": None, "due": 2, "completed": 1, "missed": 1, "rate_percent": 50.0}
    assert row(report, "2026-W09", "MIA", "INF1_D7")["missed"] == 1
    assert row(report, "2026-W09", "GNV", None)["rate_percent"] == 100.0
    # GNV-002's INF1_D7 window's last day is Sunday 2026-02-08 (it closes at midnight, which
    # is already Monday): it belongs to the week of its last day.
    assert row(report, "2026-W06", "GNV", "INF1_D7")["missed"] == 1
    assert not [r for r in report["rows"] if r["week"] == "2026-W07" and r["site_code"] == "GNV"]
    # Answered late (in the grace period) still counts as completed.
    assert row(report, "2025-W39", "GNV", "INF1_D30")["completed"] == 1
    assert report["weeks"][0] == {"week": "2025-W34", "starts": "2025-08-18"}
    assert report["weeks"][-1] == {"week": "2026-W09", "starts": "2026-02-23"}
    assert len(report["weeks"]) == 28  # every week between, also those with nothing due


def test_completion_agrees_with_the_overview_on_settled_surveys(story):
    client = story.client(MONITOR)
    report = client.get(COMPLETION).get_json()
    overview = client.get("/api/v1/dashboard/overview").get_json()
    for site in overview["sites"]:
        for a in site["assessments"]:
            weekly = [r for r in report["rows"]
                      if (r["site_code"], r["assessment_code"]) == (site["code"], a["code"])]
            counts = a["counts"]
            assert sum(r["completed"] for r in weekly) == counts["on_time"] + counts["late"]
            assert sum(r["missed"] for r in weekly) == counts["missed"]
    everything = [r for r in report["rows"] if r["site_code"] is None
                  and r["assessment_code"] is None]
    assert (sum(r["completed"] for r in everything), sum(r["missed"] for r in everything)) == (
        11, 3)


def test_a_survey_being_finished_in_the_grace_period_is_not_counted_yet(story, clock):
    # GNV-001 started INF1_D30 at 23:00 on its last day and sent it at 02:00: replayed at
    # 01:00, its window is over but it is neither completed nor missed.
    clock.set(local(-155, 1))
    report = story.client(MONITOR).get(COMPLETION).get_json()
    assert not [r for r in report["rows"] if r["assessment_code"] == "INF1_D30"]
    assert row(report, "2025-W36", "GNV", "INF1_D7")["completed"] == 1
    clock.set(local(-155, 3))
    report = story.client(MONITOR).get(COMPLETION).get_json()
    assert row(report, "2025-W39", "GNV", "INF1_D30")["completed"] == 1


def test_a_coordinator_sees_only_their_site_in_the_reports(story):
    gnv = story.client(GNV)
    report = gnv.get(COMPLETION).get_json()
    assert {r["site_code"] for r in report["rows"]} == {None, "GNV"}
    assert [s["code"] for s in report["site_choices"]] == ["GNV"]
    # The all-sites total is GNV's alone: MIA's miss in week 9 is not in it.
    assert row(report, "2026-W09", None, None)["missed"] == 0
    table = csv_rows(gnv.get(f"{COMPLETION}.csv"))
    assert {r["site"] for r in table} == {"all", "GNV"}
    for path in (COMPLETION, f"{COMPLETION}.csv", SCORES, f"{SCORES}.csv"):
        assert gnv.get(f"{path}?site=MIA").status_code == 404


def test_completion_csv_has_a_row_per_week_site_and_assessment(story):
    table = csv_rows(story.client(MONITOR).get(f"{COMPLETION}.csv?site=MIA"))
    assert list(table[0]) == ["week", "week_starts", "site", "assessment", "due", "completed",
                              "missed", "rate_percent"]
    assert {"week": "2026-W09", "week_starts": "2026-02-23", "site": "MIA",
            "assessment": "INF1_D7", "due": "1", "completed": "0", "missed": "1",
            "rate_percent": "0.0"} in table
    assert {r["site"] for r in table} == {"all", "MIA"}


# --- score distributions -----------------------------------------------------------------------

def test_quartiles_are_the_inclusive_method():
    d = distribution([10, 0, 4, 2])  # sorted 0 2 4 10: positions 0.75, 1.5, 2.25
    assert (d.n, d.q1, d.median, d.q3, d.low, d.high) == (4, 1.5, 3.0, 5.5, 0, 10)
    d = distribution([1, 2, 3, 4, 5])
    assert (d.q1, d.median, d.q3) == (2, 3, 4)
    assert distribution([7]).q1 == distribution([7]).q3 == 7
    assert distribution([], not_scored=2).median is None


PAIN = {"GNV-101": 0, "GNV-102": 2, "GNV-103": 4, "GNV-104": 10, "MIA-101": 9}
PTGA = {"GNV-101": 10, "GNV-102": 20, "GNV-103": 30, "GNV-104": 40, "MIA-101": 95}


@pytest.fixture
def scored(app, ctx_factory):
    """Baselines answered today with known pain NRS and PtGA values (the rest plausible)."""
    ctx = ctx_factory()
    passwords = {c.email: c.password for c in load_demo(ctx, enrol=False)}
    rng = random.Random(16)
    for key, pain in PAIN.items():
        p = enrol_participant(ctx, key, site_code=key[:3])
        a = ctx.session.scalar(select(Assessment).where(Assessment.participant_id == p.id,
                                                        Assessment.code == "BASELINE"))
        answers = {code: example_answers(default_registry().get(code), rng)
                   for code in a.instruments}
        answers["pain_nrs"]["pain_nrs"] = pain
        answers["ptga_vas"]["ptga_vas"] = PTGA[key]
        submit(ctx, a, f"scored-{key}", answers, "en")
        ctx.session.commit()
    return lambda email: StaffClient.login(app.test_client(), email, passwords[email])


def series(report: dict, key: str) -> dict:
    return next(s for s in report["series"] if s["key"] == key)


def test_score_distributions_give_the_median_and_quartiles_of_known_scores(scored):
    report = scored(GNV).get(SCORES).get_json()
    assert report["quantile_method"] == "inclusive"
    pain = series(report, "pain_nrs")
    assert (pain["label"], pain["scale_min"], pain["scale_max"]) == (
        "Pain intensity (0-10)", 0, 10)
    assert pain["assessments"] == [{"assessment_code": "BASELINE", "n": 4, "not_scored": 0,
                                    "median": 3.0, "q1": 1.5, "q3": 5.5, "low": 0.0,
                                    "high": 10.0}]
    ptga = series(report, "ptga_mm")["assessments"][0]
    assert (ptga["median"], ptga["q1"], ptga["q3"]) == (25.0, 17.5, 32.5)
    assert [s["key"] for s in report["series"][:5]] == [
        "pain_nrs", "ptga_mm", "haq_di", "gph_t", "gmh_t"]
    assert series(report, "haq_di")["assessments"][0]["n"] == 4


def test_score_distributions_are_scoped_to_the_callers_sites(scored):
    mia = series(scored(MIA).get(SCORES).get_json(), "pain_nrs")["assessments"]
    assert [(d["n"], d["median"], d["low"], d["high"]) for d in mia] == [(1, 9, 9, 9)]
    everyone = scored(MONITOR)
    both = series(everyone.get(SCORES).get_json(), "pain_nrs")["assessments"][0]
    assert (both["n"], both["q1"], both["median"], both["q3"]) == (5, 2, 4, 9)
    gnv_only = series(everyone.get(f"{SCORES}?site=GNV").get_json(), "pain_nrs")
    assert gnv_only["assessments"][0]["high"] == 10


def test_scores_csv_lists_each_score_per_assessment(scored):
    table = csv_rows(scored(MONITOR).get(f"{SCORES}.csv"))
    assert list(table[0]) == ["instrument", "score", "label", "assessment", "n", "not_scored",
                              "median", "q1", "q3", "min", "max"]
    assert table[0] == {"instrument": "pain_nrs", "score": "pain_nrs",
                        "label": "Pain intensity (0-10)", "assessment": "BASELINE", "n": "5",
                        "not_scored": "0", "median": "4", "q1": "2", "q3": "9", "min": "0",
                        "max": "10"}
    assert {r["score"] for r in table} >= {"pain_nrs", "ptga_mm", "haq_di", "gph_t", "gmh_t"}


def test_a_corrected_score_replaces_the_one_it_corrects(scored, ctx_factory):
    ctx = ctx_factory()
    old = ctx.session.scalar(select(Response).join(Assessment).join(Participant).where(
        Participant.subject_key == "GNV-104", Response.instrument_code == "pain_nrs"))
    correct_answer(ctx, old, "pain_nrs", 6, reason="Misread the scale",
                   source="Phone call, notes", approved_by="test")
    ctx.session.commit()
    pain = series(scored(GNV).get(SCORES).get_json(), "pain_nrs")["assessments"][0]
    assert (pain["n"], pain["q1"], pain["median"], pain["q3"], pain["high"]) == (
        4, 1.5, 3.0, 4.5, 6.0)


def from_json(session, now) -> dict[tuple[str, str], dict[str, list]]:  # type: ignore[no-untyped-def]
    """Each series' values per assessment code, read the slow way: out of every current
    version's `scores` JSON (None: not scored)."""
    found: dict[tuple[str, str], dict[str, list]] = {}
    for r, code in session.execute(select(Response, Assessment.code).join(Assessment).where(
            Response.is_current.is_(True), Response.submitted_at <= now)):
        for instrument, key, *_ in SERIES:
            if r.instrument_code == instrument:
                value = r.scores["scores"].get(key, {}).get("value")
                found.setdefault((instrument, key), {}).setdefault(code, []).append(value)
    return found


def test_the_report_of_a_study_with_corrections_is_the_one_its_json_gives(
        story, ctx_factory, clock):
    ctx = ctx_factory()
    corrected = ctx.session.scalars(select(Response).where(
        Response.is_current.is_(True), Response.instrument_code.in_(("pain_nrs", "ptga_vas")))
        .order_by(Response.id).limit(4)).all()
    assert len(corrected) == 4
    for n, response in enumerate(corrected):
        item = response.instrument_code
        new = (response.answers[item]["value"] + 3 + n) % (11 if item == "pain_nrs" else 101)
        newer = correct_answer(ctx, response, item, new, reason="Misread the scale",
                               source="Phone call, notes", approved_by="test")
        if n == 0:  # corrected twice: only the last version counts
            correct_answer(ctx, newer, item, (new + 1) % 11, reason="Checked again",
                           source="Source notes", approved_by="test")
    ctx.session.commit()
    report = story.client(MONITOR).get(SCORES).get_json()
    expected = from_json(ctx_factory().session, clock.now())
    assert {code for values in expected.values() for code in values} <= set(report["codes"])
    for s in report["series"]:
        values = expected.get((s["instrument"], s["key"]), {})
        want = []
        for code in report["codes"]:
            if code in values:
                numbers = [float(v) for v in values[code] if v is not None]
                d = distribution(numbers, len(values[code]) - len(numbers))
                want.append({"assessment_code": code, **asdict(d)})
        assert s["assessments"] == want, s["key"]
    assert sum(d["n"] for d in series(report, "pain_nrs")["assessments"]) == len(
        [v for vs in expected[("pain_nrs", "pain_nrs")].values() for v in vs])
