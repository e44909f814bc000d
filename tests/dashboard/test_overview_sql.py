"""The overview counted in SQL gives the grid's cells, derived per participant, by bucket.

The story is widened with what the counting rule must get right: an infusion recorded as not
given (its surveys cancelled, later ones still expected), infusion 1 only planned, a site's
own date for a later infusion, infusion 1 not given with no date (nothing can be expected),
a withdrawal with surveys open, a survey started in its window and finished late. It is
compared at several instants, as windows open, close and pass their grace period.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from pro_server.dashboard import overview
from pro_server.dashboard.cells import BUCKET_OF
from pro_server.dashboard.grid import Scope, load_rows
from pro_server.dashboard.overview import counted_participants, tally
from pro_server.demo import enrol_demo_participant
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.participants import services as participants
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.responses.services import save_draft
from pro_server.schedule.assessments import grace
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site, Study
from tests.dashboard.story import NOW, day

ENROLLED = ParticipantStatus.enrolled


def given(offset: int) -> datetime:
    return datetime.combine(day(offset), time(9, 30))


def widen(ctx) -> datetime:  # type: ignore[no-untyped-def]
    """Adds the cases; returns when a survey started today closes (before its grace)."""
    sites = {s.code: s for s in ctx.session.scalars(select(Site))}

    def enrol(key: str, n: int, enrolled: int):  # type: ignore[no-untyped-def]
        site = sites[key[:3]]
        return enrol_demo_participant(ctx, site.study, site, n, (key, key[:3], "en", ENROLLED,
                                                                 -enrolled), day(enrolled))

    skipped = enrol("GNV-101", 30, -70)
    record_infusion(ctx, skipped, 1, status="given", given_at_local=given(-60))
    record_infusion(ctx, skipped, 2, status="not_given", reason="Fever on the day")
    planned = enrol("GNV-102", 31, -4)
    record_infusion(ctx, planned, 1, status="planned", planned_date=day(3))
    moved = enrol("GNV-103", 32, -30)
    record_infusion(ctx, moved, 1, status="given", given_at_local=given(-25))
    record_infusion(ctx, moved, 2, status="planned", planned_date=day(40))
    undated = enrol("MIA-101", 33, -6)
    record_infusion(ctx, undated, 1, status="not_given", reason="Veins could not be accessed")
    leaving = enrol("MIA-102", 34, -40)
    record_infusion(ctx, leaving, 1, status="given", given_at_local=given(-32))
    participants.withdraw(ctx, leaving, "Moved away")
    open_one = ctx.session.scalar(select(Assessment).join(Participant).where(
        Participant.subject_key == "GNV-002", Assessment.code == "INF1_D30"))
    first = open_one.instruments[0]
    save_draft(ctx, open_one, first, example_answers(default_registry().get(first),
                                                     random.Random(1), 0.6), "es")
    ctx.session.commit()
    return open_one.window_end


def derived(session, scope: Scope, now: datetime, late: timedelta) -> Counter:  # type: ignore[no-untyped-def]
    """The grid's cells by site, code and bucket ("cancelled" kept to be compared too)."""
    counted: Counter = Counter()
    for row in load_rows(session, scope, now, late):
        for code, cell in row.cells.items():
            counted[row.site_id, code, BUCKET_OF[cell.status] or "cancelled"] += 1
    return counted


def derived_people(session, scope: Scope, now: datetime, late: timedelta):  # type: ignore[no-untyped-def]
    """Per site, the grid's participants with a counted cell; the others by subject key."""
    counted: Counter = Counter()
    others = []
    for row in load_rows(session, scope, now, late):
        if any(BUCKET_OF[cell.status] for cell in row.cells.values()):
            counted[row.site_id] += 1
        else:
            others.append(row.subject_key)
    return counted, others


@pytest.mark.parametrize("when", ["now", "in 2 days", "in its grace", "after it", "in 30 days"])
def test_sql_counts_equal_the_cells_derived_per_participant(story, ctx_factory, clock, when):
    ctx = ctx_factory()
    closes = widen(ctx)
    late = grace(ctx)
    clock.set({"now": NOW, "in 2 days": NOW + timedelta(days=2), "in its grace": closes + late / 2,
               "after it": closes + late, "in 30 days": NOW + timedelta(days=30)}[when])
    study = ctx.session.scalar(select(Study))
    scope = Scope(study, frozenset(s.id for s in study.sites))
    expected = derived(ctx.session, scope, ctx.now(), late)
    assert tally(ctx.session, scope, ctx.now(), late) == expected
    per_site, left_out = counted_participants(ctx.session, scope, ctx.now(), late)
    assert (per_site, [p["subject_key"] for p in left_out]) == derived_people(
        ctx.session, scope, ctx.now(), late)
    assert {b for _site, _code, b in expected} >= {"on_time", "late", "missed", "upcoming",
                                                   "cancelled"}
    one_site = Scope(study, frozenset({study.sites[0].id}))
    assert tally(ctx.session, one_site, ctx.now(), late) == derived(
        ctx.session, one_site, ctx.now(), late)


def test_a_survey_with_a_row_is_not_also_expected(story, ctx_factory):
    """Infusion 2 was recorded as given, then corrected to a later planned date: the rows
    its surveys got stay on the grid, and the overview does not count them a second time
    as expected (projected) surveys."""
    ctx = ctx_factory()
    site = ctx.session.scalar(select(Site).where(Site.code == "GNV"))
    person = enrol_demo_participant(ctx, site.study, site, 40,
                                    ("GNV-104", "GNV", "en", ENROLLED, -50), day(-50))
    record_infusion(ctx, person, 1, status="given", given_at_local=given(-45))
    record_infusion(ctx, person, 2, status="given", given_at_local=given(-2))
    record_infusion(ctx, person, 2, status="planned", planned_date=day(5),
                    reason="Entered on the wrong participant")
    ctx.session.commit()
    rows = set(ctx.session.scalars(select(Assessment.code)
                                   .where(Assessment.participant_id == person.id)))
    assert {"INF2_D7", "INF2_D30"} <= rows  # the case the rule is about
    study = ctx.session.scalar(select(Study))
    scope = Scope(study, frozenset(s.id for s in study.sites))
    late = grace(ctx)
    assert tally(ctx.session, scope, ctx.now(), late) == derived(ctx.session, scope,
                                                                 ctx.now(), late)


def test_a_study_with_more_codes_than_the_counts_hold_is_refused_by_name(monkeypatch):
    """The overview sums each participant's assessment codes as a 63-bit set: a study whose
    protocols define more codes gets an error naming it, not wrong counts."""
    many = SimpleNamespace(assessment_codes=tuple(f"C{n}" for n in range(63)))
    monkeypatch.setattr(overview, "default_registry",
                        lambda: SimpleNamespace(versions=lambda code: [many]))
    scope = SimpleNamespace(study=SimpleNamespace(code="LONG"))
    with pytest.raises(ValueError, match="LONG: the overview counts at most 62"):
        overview._code_bits(scope)  # type: ignore[arg-type]
