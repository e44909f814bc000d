"""Planning a participant's assessments from the protocol and the recorded infusions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pro_server.protocol.planner import (
    InfusionRecord,
    find_day0,
    infusion_schedule,
    plan_assessments,
    planned_infusion_dates,
    project_calendar,
)

NEW_YORK = "America/New_York"
ENROLLED = date(2026, 2, 20)


def _by_code(assessments):
    return {a.code: a for a in assessments}


def test_planned_infusion_dates_from_day0(v1, v2) -> None:
    assert planned_infusion_dates(v2, date(2026, 3, 5)) == {
        1: date(2026, 3, 5),
        2: date(2026, 6, 3),
        3: date(2026, 9, 1),
        4: date(2026, 10, 1),
        5: date(2026, 12, 30),
        6: date(2027, 3, 30),
    }
    assert planned_infusion_dates(v1, date(2026, 3, 5)) == {
        1: date(2026, 3, 5),
        2: date(2026, 7, 3),
        3: date(2026, 10, 31),
        4: date(2027, 2, 28),
    }


def test_day0_is_the_given_date_else_the_planned_date(given) -> None:
    assert find_day0([]) is None
    assert find_day0([InfusionRecord(1, "planned", planned_date=date(2026, 3, 2))]) == date(
        2026, 3, 2
    )
    record = InfusionRecord(
        1, "given", planned_date=date(2026, 3, 2), given_at_local=datetime(2026, 3, 5, 10)
    )
    assert find_day0([record, given(2, "2026-06-03 10:00")]) == date(2026, 3, 5)


def test_correcting_day0_moves_every_later_planned_infusion(v2, given) -> None:
    before = infusion_schedule(v2, [given(1, "2026-03-05 10:00")])
    after = infusion_schedule(v2, [given(1, "2026-03-07 10:00")])
    for old, new in zip(before, after, strict=True):
        assert new.planned_date - old.planned_date == timedelta(days=2)
        assert new.protocol_date - old.protocol_date == timedelta(days=2)


def test_a_site_reschedule_overrides_the_protocol_date_of_one_infusion(v2, given) -> None:
    schedule = infusion_schedule(
        v2,
        [
            given(1, "2026-03-05 10:00"),
            InfusionRecord(2, "planned", planned_date=date(2026, 6, 10)),
        ],
    )
    assert schedule[1].planned_date == date(2026, 6, 10)
    assert schedule[1].protocol_date == date(2026, 6, 3)
    assert schedule[2].planned_date == date(2026, 9, 1)  # still Day 0 + 180


def test_schedule_flags_an_infusion_given_outside_the_tolerance(v2, given) -> None:
    on_time = infusion_schedule(v2, [given(1, "2026-03-05 10:00"), given(2, "2026-06-17 10:00")])
    late = infusion_schedule(v2, [given(1, "2026-03-05 10:00"), given(2, "2026-06-18 10:00")])
    assert (on_time[1].earliest, on_time[1].latest) == (date(2026, 5, 20), date(2026, 6, 17))
    assert not on_time[1].off_schedule
    assert late[1].off_schedule
    assert [s.status for s in late] == [
        "given",
        "given",
        "planned",
        "planned",
        "planned",
        "planned",
    ]


def test_schedule_without_day0_has_no_dates(v2) -> None:
    schedule = infusion_schedule(v2, [])
    assert all(s.planned_date is None and not s.off_schedule for s in schedule)


def test_before_infusion_1_only_the_baseline_is_planned(v2) -> None:
    plan = plan_assessments(v2, NEW_YORK, ENROLLED, [])
    assert [a.code for a in plan] == ["BASELINE"]


def test_baseline_closes_at_the_moment_infusion_1_is_given(v2, given) -> None:
    baseline = plan_assessments(v2, NEW_YORK, ENROLLED, [given(1, "2026-03-05 10:17")])[0]
    assert baseline.window_start_local.isoformat() == "2026-02-20T00:00:00-05:00"
    assert baseline.window_end_local.isoformat() == "2026-03-05T10:17:00-05:00"
    assert baseline.window_end_utc == datetime(2026, 3, 5, 15, 17, tzinfo=UTC)
    assert (baseline.first_day, baseline.last_day) == (ENROLLED, date(2026, 3, 5))
    assert baseline.end_reason == "infusion_given"
    assert baseline.anchor == "enrolment"
    assert baseline.instruments[-1] == "rand36"


def test_baseline_waits_until_the_cap_after_planned_day0(v2) -> None:
    planned = InfusionRecord(1, "planned", planned_date=date(2026, 3, 2))
    baseline = plan_assessments(v2, NEW_YORK, ENROLLED, [planned])[0]
    assert baseline.last_day == date(2026, 3, 16)  # planned Day 0 + 14
    assert baseline.window_end_local.isoformat() == "2026-03-17T00:00:00-04:00"
    assert baseline.end_reason == "baseline_cap"


def test_baseline_without_any_planned_day0_is_capped_after_enrolment(v2) -> None:
    baseline = plan_assessments(v2, NEW_YORK, ENROLLED, [])[0]
    assert baseline.last_day == ENROLLED + timedelta(days=42)


def test_infusion_1_not_given_keeps_the_baseline_on_its_cap(v2) -> None:
    record = InfusionRecord(1, "not_given", planned_date=date(2026, 3, 2), reason="fever")
    plan = plan_assessments(v2, NEW_YORK, ENROLLED, [record])
    # Its surveys are planned from the planned date, cancelled with the site's reason.
    assert [(a.code, a.cancelled_reason, a.first_day) for a in plan] == [
        ("BASELINE", None, ENROLLED),
        ("INF1_D7", "fever", date(2026, 3, 7)),
        ("INF1_D30", "fever", date(2026, 3, 28)),
    ]
    assert plan[0].last_day == date(2026, 3, 16)


def test_a_given_infusion_creates_its_assessments(v2, given) -> None:
    plan = plan_assessments(v2, NEW_YORK, ENROLLED, [given(1, "2026-03-05 10:00")])
    assert [(a.code, a.sequence, a.anchor) for a in plan] == [
        ("BASELINE", 0, "enrolment"),
        ("INF1_D7", 1, "infusion:1"),
        ("INF1_D30", 2, "infusion:1"),
    ]
    d7 = plan[1]
    assert (d7.first_day, d7.last_day, d7.target_date) == (
        date(2026, 3, 10),
        date(2026, 3, 14),
        date(2026, 3, 12),
    )
    assert d7.instruments == ("pain_nrs", "ptga_vas", "haq_di", "promis_gh")
    assert (d7.study_code, d7.protocol_version, d7.projected) == ("RES001-DMPM-02", 2, False)


def test_correcting_infusion_2_by_five_days_moves_only_its_windows(v2, given) -> None:
    infusion_1 = given(1, "2026-03-05 10:00")
    before = _by_code(
        plan_assessments(v2, NEW_YORK, ENROLLED, [infusion_1, given(2, "2026-06-03 10:00")])
    )
    after = _by_code(
        plan_assessments(v2, NEW_YORK, ENROLLED, [infusion_1, given(2, "2026-06-08 10:00")])
    )
    assert before.keys() == after.keys()
    for code in ("INF2_D7", "INF2_D30"):
        assert after[code].first_day - before[code].first_day == timedelta(days=5)
        assert after[code].last_day - before[code].last_day == timedelta(days=5)
        assert after[code].window_start_utc - before[code].window_start_utc == timedelta(days=5)
    assert after["INF2_D7"].window_start_local.isoformat() == "2026-06-13T00:00:00-04:00"
    assert after["INF2_D30"].window_end_local.isoformat() == "2026-07-13T00:00:00-04:00"
    for code in ("BASELINE", "INF1_D7", "INF1_D30"):
        assert after[code] == before[code]


@pytest.mark.parametrize(
    ("tz", "d7_start_utc", "d7_end_utc"),
    [
        ("America/New_York", "2026-03-10T04:00:00+00:00", "2026-03-15T04:00:00+00:00"),
        ("America/Los_Angeles", "2026-03-10T07:00:00+00:00", "2026-03-15T07:00:00+00:00"),
        ("America/Puerto_Rico", "2026-03-10T04:00:00+00:00", "2026-03-15T04:00:00+00:00"),
    ],
)
def test_windows_are_in_the_participants_own_local_days(
    v2, given, tz: str, d7_start_utc: str, d7_end_utc: str
) -> None:
    d7 = plan_assessments(v2, tz, ENROLLED, [given(1, "2026-03-05 22:30")])[1]
    assert (d7.first_day, d7.last_day) == (date(2026, 3, 10), date(2026, 3, 14))
    assert d7.window_start_local.replace(tzinfo=None) == datetime(2026, 3, 10)
    assert d7.window_end_local.replace(tzinfo=None) == datetime(2026, 3, 15)
    assert d7.window_start_local.tzinfo.key == tz
    assert (d7.window_start_utc.isoformat(), d7.window_end_utc.isoformat()) == (
        d7_start_utc,
        d7_end_utc,
    )


@pytest.mark.parametrize(
    ("tz", "start", "end", "hours"),
    [
        ("America/Los_Angeles", "2026-10-27T00:00:00-07:00", "2026-11-05T00:00:00-08:00", 217),
        ("America/Puerto_Rico", "2026-10-27T00:00:00-04:00", "2026-11-05T00:00:00-04:00", 216),
    ],
)
def test_day30_window_over_the_fall_back_in_la_and_puerto_rico(
    v2, given, tz: str, start: str, end: str, hours: int
) -> None:
    d30 = plan_assessments(v2, tz, date(2026, 9, 20), [given(1, "2026-10-01 09:00")])[2]
    assert (d30.window_start_local.isoformat(), d30.window_end_local.isoformat()) == (start, end)
    assert d30.window_end_utc - d30.window_start_utc == timedelta(hours=hours)


def test_an_evening_infusion_counts_from_its_local_date_not_the_utc_date(v2, given) -> None:
    # 22:30 in Los Angeles on 2026-03-05 is already 2026-03-06 in UTC.
    d7 = plan_assessments(v2, "America/Los_Angeles", ENROLLED, [given(1, "2026-03-05 22:30")])[1]
    assert d7.anchor_date == date(2026, 3, 5)


def test_the_next_infusion_closes_an_overlapping_window(v2, given) -> None:
    records = [given(1, "2026-03-05 10:00"), given(2, "2026-06-03 10:00")]
    records += [given(3, "2026-09-01 10:00"), given(4, "2026-10-01 10:00")]
    plan = _by_code(plan_assessments(v2, NEW_YORK, ENROLLED, records))
    d30 = plan["INF3_D30"]
    assert d30.window_start_local.isoformat() == "2026-09-27T00:00:00-04:00"
    assert d30.window_end_local.isoformat() == "2026-10-01T10:00:00-04:00"
    assert (d30.last_day, d30.end_reason) == (date(2026, 10, 1), "infusion_given")
    assert plan["INF2_D30"].end_reason == "window_end"


def test_a_next_infusion_before_the_window_leaves_it_empty(v2, given) -> None:
    records = [given(1, "2026-03-05 10:00"), given(2, "2026-03-20 10:00")]
    d30 = _by_code(plan_assessments(v2, NEW_YORK, ENROLLED, records))["INF1_D30"]
    assert d30.window_end_utc == d30.window_start_utc
    assert d30.last_day == d30.first_day == date(2026, 3, 31)


def test_without_the_rule_the_next_infusion_does_not_close_windows(
    v2_document, build_protocol, given
) -> None:
    v2_document["close_before_next_infusion"] = False
    protocol = build_protocol(v2_document)
    records = [given(1, "2026-03-05 10:00"), given(2, "2026-03-20 10:00")]
    d30 = _by_code(plan_assessments(protocol, NEW_YORK, ENROLLED, records))["INF1_D30"]
    assert d30.window_end_local.isoformat() == "2026-04-09T00:00:00-04:00"


def test_configured_window_times_apply_to_every_window(v2_document, build_protocol, given) -> None:
    v2_document["window_times"] = {"opens_at": "08:00", "closes_at": "20:00"}
    protocol = build_protocol(v2_document)
    plan = plan_assessments(protocol, NEW_YORK, ENROLLED, [given(1, "2026-03-05 10:00")])
    assert plan[0].window_start_local.isoformat() == "2026-02-20T08:00:00-05:00"
    assert plan[1].window_start_local.isoformat() == "2026-03-10T08:00:00-04:00"
    assert plan[1].window_end_local.isoformat() == "2026-03-14T20:00:00-04:00"


def test_a_not_given_infusion_plans_its_surveys_cancelled_and_later_ones_still_open(
        v2, given) -> None:
    records = [
        given(1, "2026-03-05 10:00"),
        InfusionRecord(2, "not_given", reason="infection"),
        given(3, "2026-09-01 10:00"),
    ]
    plan = project_calendar(v2, NEW_YORK, ENROLLED, records)
    assert [(a.code, a.cancelled_reason, a.projected) for a in plan][:7] == [
        ("BASELINE", None, False), ("INF1_D7", None, False), ("INF1_D30", None, False),
        ("INF2_D7", "infection", False), ("INF2_D30", "infection", False),
        ("INF3_D7", None, False), ("INF3_D30", None, False)]
    assert plan[3].anchor_date == date(2026, 6, 3)  # Day 0 + 90, the planned date


def test_projection_covers_planned_infusions_after_the_last_given_one(v2, given) -> None:
    records = [
        given(1, "2026-03-05 10:00"),
        InfusionRecord(2, "planned", planned_date=date(2026, 6, 10)),
    ]
    calendar = project_calendar(v2, NEW_YORK, ENROLLED, records)
    assert len(calendar) == 13
    assert [a.projected for a in calendar] == [False] * 3 + [True] * 10
    assert _by_code(calendar)["INF2_D7"].first_day == date(2026, 6, 15)  # site's planned date
    assert _by_code(calendar)["INF3_D7"].first_day == date(2026, 9, 6)  # Day 0 + 180 + 5
    assert plan_assessments(v2, NEW_YORK, ENROLLED, records) == calendar[:3]


def test_a_planned_infusion_overtaken_by_a_later_one_is_not_projected(v2, given) -> None:
    records = [given(1, "2026-03-05 10:00"), given(3, "2026-09-01 10:00")]
    codes = [a.code for a in project_calendar(v2, NEW_YORK, ENROLLED, records)]
    assert "INF2_D7" not in codes
    assert codes[-1] == "INF6_D30"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([InfusionRecord(7, "planned")], r"infusions 1\.\.6, not 7"),
        ([InfusionRecord(1, "planned"), InfusionRecord(1, "planned")], "recorded twice"),
        (
            [InfusionRecord(1, "given", given_at_local=datetime(2026, 2, 19, 10))],
            "before enrolment",
        ),
        ([InfusionRecord(1, "planned", planned_date=date(2026, 2, 1))], "before enrolment"),
        (
            [
                InfusionRecord(1, "given", given_at_local=datetime(2026, 6, 3, 10)),
                InfusionRecord(2, "given", given_at_local=datetime(2026, 3, 5, 10)),
            ],
            "not after infusion 1",
        ),
    ],
)
def test_inconsistent_infusion_records_are_rejected(v2, records, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        project_calendar(v2, NEW_YORK, ENROLLED, records)


def test_v1_has_no_fifth_infusion(v1, given) -> None:
    with pytest.raises(ValueError, match=r"v1 defines infusions 1\.\.4, not 5"):
        plan_assessments(v1, NEW_YORK, ENROLLED, [InfusionRecord(5, "planned")])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": 0, "status": "planned"}, ">= 1"),
        ({"number": 1, "status": "done"}, "unknown status"),
        ({"number": 1, "status": "given"}, "no given_at_local"),
        (
            {"number": 1, "status": "given", "given_at_local": datetime(2026, 3, 5, tzinfo=UTC)},
            "naive",
        ),
        (
            {"number": 1, "status": "planned", "given_at_local": datetime(2026, 3, 5)},
            "planned but has given_at_local",
        ),
        ({"number": 1, "status": "not_given", "reason": "  "}, "needs a reason"),
    ],
)
def test_infusion_record_invariants(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InfusionRecord(**kwargs)


def test_an_unknown_time_zone_is_a_value_error(v2) -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        plan_assessments(v2, "Florida/Miami", ENROLLED, [])
