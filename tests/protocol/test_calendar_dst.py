"""Acceptance (1): full v2 calendars in America/New_York across both 2026 DST changes.

The expected tables are written out by hand from the calendar (Day 0 + n days) and the US
rules (EDT from 2026-03-08 to 2026-11-01 and from 2027-03-14), not computed by the code
under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pro_server.protocol.planner import PlannedAssessment, plan_assessments, project_calendar

NEW_YORK = "America/New_York"


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _render(calendar: list[PlannedAssessment]) -> str:
    lines = [
        f"{'code':<9} {'local days':<22} {'opens (local)':<25} {'closes (local)':<25} "
        f"{'opens (UTC)':<17} {'closes (UTC)':<17} {'length':<7} note"
    ]
    for a in calendar:
        hours = (a.window_end_utc - a.window_start_utc) / timedelta(hours=1)
        note = "projected" if a.projected else "created"
        if a.end_reason != "window_end":
            note += f", ends: {a.end_reason}"
        lines.append(
            f"{a.code:<9} {a.first_day}..{a.last_day} "
            f"{a.window_start_local.isoformat():<25} {a.window_end_local.isoformat():<25} "
            f"{_utc(a.window_start_utc):<17} {_utc(a.window_end_utc):<17} {hours:>5g} h {note}"
        )
    return "\n".join(lines)


EXPECTED_V2_CALENDAR = """\
code      local days             opens (local)             closes (local)            opens (UTC)       closes (UTC)      length  note
BASELINE  2026-02-20..2026-03-05 2026-02-20T00:00:00-05:00 2026-03-05T10:00:00-05:00 2026-02-20T05:00Z 2026-03-05T15:00Z   322 h created, ends: infusion_given
INF1_D7   2026-03-10..2026-03-14 2026-03-10T00:00:00-04:00 2026-03-15T00:00:00-04:00 2026-03-10T04:00Z 2026-03-15T04:00Z   120 h created
INF1_D30  2026-03-31..2026-04-08 2026-03-31T00:00:00-04:00 2026-04-09T00:00:00-04:00 2026-03-31T04:00Z 2026-04-09T04:00Z   216 h created
INF2_D7   2026-06-08..2026-06-12 2026-06-08T00:00:00-04:00 2026-06-13T00:00:00-04:00 2026-06-08T04:00Z 2026-06-13T04:00Z   120 h projected
INF2_D30  2026-06-29..2026-07-07 2026-06-29T00:00:00-04:00 2026-07-08T00:00:00-04:00 2026-06-29T04:00Z 2026-07-08T04:00Z   216 h projected
INF3_D7   2026-09-06..2026-09-10 2026-09-06T00:00:00-04:00 2026-09-11T00:00:00-04:00 2026-09-06T04:00Z 2026-09-11T04:00Z   120 h projected
INF3_D30  2026-09-27..2026-10-05 2026-09-27T00:00:00-04:00 2026-10-06T00:00:00-04:00 2026-09-27T04:00Z 2026-10-06T04:00Z   216 h projected
INF4_D7   2026-10-06..2026-10-10 2026-10-06T00:00:00-04:00 2026-10-11T00:00:00-04:00 2026-10-06T04:00Z 2026-10-11T04:00Z   120 h projected
INF4_D30  2026-10-27..2026-11-04 2026-10-27T00:00:00-04:00 2026-11-05T00:00:00-05:00 2026-10-27T04:00Z 2026-11-05T05:00Z   217 h projected
INF5_D7   2027-01-04..2027-01-08 2027-01-04T00:00:00-05:00 2027-01-09T00:00:00-05:00 2027-01-04T05:00Z 2027-01-09T05:00Z   120 h projected
INF5_D30  2027-01-25..2027-02-02 2027-01-25T00:00:00-05:00 2027-02-03T00:00:00-05:00 2027-01-25T05:00Z 2027-02-03T05:00Z   216 h projected
INF6_D7   2027-04-04..2027-04-08 2027-04-04T00:00:00-04:00 2027-04-09T00:00:00-04:00 2027-04-04T04:00Z 2027-04-09T04:00Z   120 h projected
INF6_D30  2027-04-25..2027-05-03 2027-04-25T00:00:00-04:00 2027-05-04T00:00:00-04:00 2027-04-25T04:00Z 2027-05-04T04:00Z   216 h projected"""  # noqa: E501


def test_full_v2_calendar_when_infusion_1_is_given_before_spring_forward(v2, given) -> None:
    calendar = project_calendar(v2, NEW_YORK, date(2026, 2, 20), [given(1, "2026-03-05 10:00")])
    rendered = _render(calendar)
    print(
        f"\nRES001-DMPM-02 v2, {NEW_YORK}, enrolled 2026-02-20, infusion 1 given 2026-03-05 10:00"
    )
    print(rendered)
    assert rendered == EXPECTED_V2_CALENDAR


def test_infusions_given_as_planned_confirm_the_projection(v2, given) -> None:
    given_on_plan = [
        given(number, f"{day} 10:00")
        for number, day in enumerate(
            ["2026-03-05", "2026-06-03", "2026-09-01", "2026-10-01", "2026-12-30", "2027-03-30"],
            start=1,
        )
    ]
    projected = project_calendar(v2, NEW_YORK, date(2026, 2, 20), given_on_plan[:1])
    planned = plan_assessments(v2, NEW_YORK, date(2026, 2, 20), given_on_plan)
    assert [a.code for a in planned] == [a.code for a in projected]
    assert not any(a.projected for a in planned)
    for old, new in zip(projected, planned, strict=True):
        assert new.window_start_utc == old.window_start_utc
        if new.code != "INF3_D30":
            assert new.window_end_utc == old.window_end_utc
    # Infusion 4 (Month 7) falls on day 30 after infusion 3 and closes INF3_D30 when given.
    inf3_d30 = next(a for a in planned if a.code == "INF3_D30")
    assert inf3_d30.window_end_local.isoformat() == "2026-10-01T10:00:00-04:00"
    assert _utc(inf3_d30.window_end_utc) == "2026-10-01T14:00Z"


def test_day30_window_spanning_the_fall_back_is_an_hour_longer(v2, given) -> None:
    plan = plan_assessments(v2, NEW_YORK, date(2026, 9, 20), [given(1, "2026-10-01 09:30")])
    d30 = plan[2]
    assert d30.code == "INF1_D30"
    assert (d30.first_day, d30.last_day) == (date(2026, 10, 27), date(2026, 11, 4))
    assert d30.window_start_local.isoformat() == "2026-10-27T00:00:00-04:00"
    assert d30.window_end_local.isoformat() == "2026-11-05T00:00:00-05:00"
    assert d30.window_start_utc == datetime(2026, 10, 27, 4, tzinfo=UTC)
    assert d30.window_end_utc == datetime(2026, 11, 5, 5, tzinfo=UTC)
    assert d30.window_end_utc - d30.window_start_utc == timedelta(days=9, hours=1)


def test_day7_window_spanning_the_spring_forward_is_an_hour_shorter(v2, given) -> None:
    plan = plan_assessments(v2, NEW_YORK, date(2026, 2, 20), [given(1, "2026-03-01 14:00")])
    d7 = plan[1]
    assert (d7.first_day, d7.last_day) == (date(2026, 3, 6), date(2026, 3, 10))
    assert d7.window_start_local.isoformat() == "2026-03-06T00:00:00-05:00"
    assert d7.window_end_local.isoformat() == "2026-03-11T00:00:00-04:00"
    assert d7.window_start_utc == datetime(2026, 3, 6, 5, tzinfo=UTC)
    assert d7.window_end_utc == datetime(2026, 3, 11, 4, tzinfo=UTC)
    assert d7.window_end_utc - d7.window_start_utc == timedelta(days=5, hours=-1)
