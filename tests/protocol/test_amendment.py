"""Acceptance (4), pure part: moving a participant from one protocol version to the next."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from pro_server.protocol.amendment import ExistingAssessment, plan_amendment
from pro_server.protocol.planner import (
    PlannedAssessment,
    infusion_schedule,
    plan_assessments,
    project_calendar,
)

NEW_YORK = "America/New_York"
ENROLLED = date(2026, 1, 20)


def _existing(planned: PlannedAssessment, status: str) -> ExistingAssessment:
    return ExistingAssessment(
        code=planned.code,
        status=status,
        window_start_utc=planned.window_start_utc,
        window_end_utc=planned.window_end_utc,
        instruments=planned.instruments,
        ref=f"row-{planned.code}",
    )


@pytest.fixture
def infusions(given):
    return [given(1, "2026-02-02 10:00"), given(2, "2026-06-01 10:00")]


@pytest.fixture
def v1_instances(v1, infusions) -> list[ExistingAssessment]:
    """The v1 participant on 2026-06-07: two done, one missed, one open, one to come."""
    plan = {a.code: a for a in plan_assessments(v1, NEW_YORK, ENROLLED, infusions)}
    return [
        _existing(plan["BASELINE"], "completed"),
        _existing(plan["INF1_D7"], "completed"),
        _existing(plan["INF1_D30"], "missed"),
        _existing(plan["INF2_D7"], "open"),
        _existing(plan["INF2_D30"], "scheduled"),
    ]


NOW = datetime(2026, 6, 7, 16, tzinfo=UTC)


def test_v1_to_v2_with_the_real_files(v1, v2, infusions, v1_instances) -> None:
    new_plan = plan_assessments(v2, NEW_YORK, ENROLLED, infusions)
    amendment = plan_amendment(v1_instances, new_plan, NOW)
    # Both versions count the same windows from the infusions actually given, so every
    # instance stays; those not started are re-tagged with v2 (the decision carries the plan).
    assert [(d.code, d.action) for d in amendment.decisions] == [
        ("BASELINE", "keep"),
        ("INF1_D7", "keep"),
        ("INF1_D30", "keep"),
        ("INF2_D7", "keep"),
        ("INF2_D30", "keep"),
    ]
    assert not amendment.changes_anything
    assert amendment.by_action("keep")[3].planned.protocol_version == 2
    assert amendment.by_action("keep")[0].planned is None  # completed keeps v1
    # What the amendment changes is the plan ahead: infusions 3.. move to v2's months.
    v1_dates = [s.planned_date for s in infusion_schedule(v1, infusions)]
    v2_dates = [s.planned_date for s in infusion_schedule(v2, infusions)]
    assert v1_dates[2:] == [date(2026, 9, 30), date(2027, 1, 28)]
    assert v2_dates[2:] == [
        date(2026, 8, 1),
        date(2026, 8, 31),
        date(2026, 11, 29),
        date(2027, 2, 27),
    ]
    projected = project_calendar(v2, NEW_YORK, ENROLLED, infusions)
    assert [a.code for a in projected][-4:] == ["INF5_D7", "INF5_D30", "INF6_D7", "INF6_D30"]


@pytest.fixture
def v3(v2_document, build_protocol):
    """A hypothetical amendment with wider windows and a longer Day 7 questionnaire."""
    v2_document.update(version=3, supersedes=2)
    for spec in v2_document["assessments"]:
        spec["window"] = (
            {"start_day": 4, "end_day": 12}
            if spec["day"] == 7
            else {"start_day": 25, "end_day": 35}
        )
        if spec["day"] == 7:
            spec["instrument_set"] = "four_week"
    return build_protocol(v2_document)


def test_not_started_assessments_are_regenerated_and_started_ones_keep_theirs(
    v3, infusions, v1_instances
) -> None:
    new_plan = plan_assessments(v3, NEW_YORK, ENROLLED, infusions)
    instances = [*v1_instances]
    instances[2] = replace(instances[2], status="in_progress")
    amendment = plan_amendment(instances, new_plan, NOW)
    assert [(d.code, d.action) for d in amendment.decisions] == [
        ("BASELINE", "keep"),
        ("INF1_D7", "keep"),
        ("INF1_D30", "keep"),
        ("INF2_D7", "replace"),
        ("INF2_D30", "replace"),
    ]
    assert [e.ref for e in amendment.to_cancel] == ["row-INF2_D7", "row-INF2_D30"]
    created = {p.code: p for p in amendment.to_create}
    assert created["INF2_D7"].protocol_version == 3
    assert (created["INF2_D7"].first_day, created["INF2_D7"].last_day) == (
        date(2026, 6, 5),
        date(2026, 6, 13),
    )
    assert created["INF2_D7"].instruments[-1] == "rand36"
    kept = {d.code: d for d in amendment.by_action("keep")}
    assert kept["INF1_D30"].existing.window_start_utc == instances[2].window_start_utc
    assert "in_progress" in kept["INF1_D30"].reason


def test_missed_is_history_unless_the_new_window_is_still_open(
    v3, given, infusions, v1_instances
) -> None:
    new_plan = {a.code: a for a in plan_assessments(v3, NEW_YORK, ENROLLED, infusions)}
    # INF2_D7 (v1: 06-06..06-10) read as missed on 06-11; v3 keeps it open to 06-13.
    missed_d7 = replace(v1_instances[3], status="missed")
    on_june_11 = datetime(2026, 6, 11, 16, tzinfo=UTC)
    decision = plan_amendment([missed_d7], [new_plan["INF2_D7"]], on_june_11).decisions[0]
    assert (decision.action, decision.planned) == ("replace", new_plan["INF2_D7"])
    after_v3_window = datetime(2026, 6, 14, 16, tzinfo=UTC)
    decision = plan_amendment([missed_d7], [new_plan["INF2_D7"]], after_v3_window).decisions[0]
    assert decision.action == "keep"


def test_assessments_missing_from_the_new_plan_are_cancelled(v2, infusions, v1_instances) -> None:
    new_plan = [
        a for a in plan_assessments(v2, NEW_YORK, ENROLLED, infusions) if a.code != "INF2_D30"
    ]
    amendment = plan_amendment(v1_instances, new_plan, NOW)
    cancelled = amendment.by_action("cancel")
    assert [(d.code, d.existing.ref) for d in cancelled] == [("INF2_D30", "row-INF2_D30")]
    assert amendment.to_cancel == (v1_instances[4],)


def test_cancelled_instances_do_not_block_a_new_one(v2, infusions, v1_instances) -> None:
    instances = [
        *v1_instances[:4],
        replace(v1_instances[4], status="cancelled"),
    ]
    new_plan = plan_assessments(v2, NEW_YORK, ENROLLED, infusions)
    amendment = plan_amendment(instances, new_plan, NOW)
    assert [d.code for d in amendment.by_action("create")] == ["INF2_D30"]
    assert amendment.to_create == (new_plan[4],)


def test_new_assessments_are_created_for_codes_without_an_instance(v2, given, infusions) -> None:
    new_plan = plan_assessments(v2, NEW_YORK, ENROLLED, [*infusions, given(3, "2026-08-01 10:00")])
    amendment = plan_amendment([], new_plan, NOW)
    assert [d.action for d in amendment.decisions] == ["create"] * 7
    assert [p.code for p in amendment.to_create] == [p.code for p in new_plan]


def test_invalid_inputs(v2, infusions, v1_instances) -> None:
    new_plan = plan_assessments(v2, NEW_YORK, ENROLLED, infusions)
    with pytest.raises(ValueError, match="two active instances of INF1_D7"):
        plan_amendment([v1_instances[1], v1_instances[1]], new_plan, NOW)
    with pytest.raises(ValueError, match="projected"):
        plan_amendment(v1_instances, project_calendar(v2, NEW_YORK, ENROLLED, infusions), NOW)
    with pytest.raises(ValueError, match="now_utc must be a timezone-aware"):
        plan_amendment(v1_instances, new_plan, NOW.replace(tzinfo=None))
    naive = ExistingAssessment(
        "INF1_D7", "open", datetime(2026, 2, 7), datetime(2026, 2, 12), ("pain_nrs",)
    )
    with pytest.raises(ValueError, match="INF1_D7 window_start_utc"):
        plan_amendment([naive], new_plan, NOW)
    unknown = replace(v1_instances[1], status="paused")
    with pytest.raises(ValueError, match="unknown status 'paused'"):
        plan_amendment([unknown], new_plan, NOW + timedelta(days=1))
