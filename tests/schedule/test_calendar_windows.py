"""Windows in the participant's local days and in UTC, across DST, through the API."""

from datetime import UTC, datetime

from tests.factories import enrol_over_api
from tests.schedule.conftest import by_code, give


def test_v2_calendar_across_spring_forward(gnv, clock, capsys):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-201", enrolled_on="2026-02-20")
    schedule = give(gnv, pid, 1, "2026-03-05T10:00")
    with capsys.disabled():
        print("\nRES001-DMPM-02 v2, America/New_York, infusion 1 given 2026-03-05 10:00 local")
        for a in schedule["assessments"]:
            print(f"  {a['code']:<9} {a['window_start_local']} .. {a['window_end_local']}  "
                  f"UTC {a['window_start_utc']} .. {a['window_end_utc']}  {a['status']}")
        for a in schedule["projected"]:
            print(f"  {a['code']:<9} {a['window_start_local']} .. {a['window_end_local']}  "
                  f"(projected from planned infusion dates)")
    rows = by_code(schedule)
    # Baseline: enrolment day local midnight (EST) to the moment infusion 1 was given.
    assert rows["BASELINE"]["window_start_local"] == "2026-02-20T00:00:00-05:00"
    assert rows["BASELINE"]["window_start_utc"] == "2026-02-20T05:00:00+00:00"
    assert rows["BASELINE"]["window_end_local"] == "2026-03-05T10:00:00-05:00"
    assert rows["BASELINE"]["window_end_utc"] == "2026-03-05T15:00:00+00:00"
    # Day 7 window, days 5..9 = 2026-03-10..14, all after DST started on 2026-03-08 (EDT).
    assert rows["INF1_D7"]["window_start_local"] == "2026-03-10T00:00:00-04:00"
    assert rows["INF1_D7"]["window_start_utc"] == "2026-03-10T04:00:00+00:00"
    assert rows["INF1_D7"]["window_end_local"] == "2026-03-15T00:00:00-04:00"
    assert rows["INF1_D7"]["window_end_utc"] == "2026-03-15T04:00:00+00:00"
    # Day 30 window, days 26..34 = 2026-03-31..2026-04-08.
    assert rows["INF1_D30"]["window_start_utc"] == "2026-03-31T04:00:00+00:00"
    assert rows["INF1_D30"]["window_end_utc"] == "2026-04-09T04:00:00+00:00"
    assert [a["code"] for a in schedule["projected"]] == [
        f"INF{n}_D{d}" for n in range(2, 7) for d in (7, 30)]
    assert rows["BASELINE"]["status"] == "missed"  # closed at infusion 1, never answered
    assert rows["INF1_D7"]["status"] == "scheduled"


def test_day30_window_across_fall_back_is_one_hour_longer(gnv, clock):
    clock.set(datetime(2026, 10, 3, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-202", enrolled_on="2026-09-20")
    rows = by_code(give(gnv, pid, 1, "2026-10-03T09:00"))
    d30 = rows["INF1_D30"]
    assert (d30["first_day"], d30["last_day"]) == ("2026-10-29", "2026-11-06")
    assert d30["window_start_local"] == "2026-10-29T00:00:00-04:00"
    assert d30["window_end_local"] == "2026-11-07T00:00:00-05:00"
    start = datetime.fromisoformat(d30["window_start_utc"])
    end = datetime.fromisoformat(d30["window_end_utc"])
    assert (end - start).total_seconds() == (9 * 24 + 1) * 3600


def test_los_angeles_and_puerto_rico_get_their_own_local_days(gnv, clock):
    clock.set(datetime(2026, 6, 1, 20, 0, tzinfo=UTC))
    la = enrol_over_api(gnv, "GNV-203", timezone="America/Los_Angeles", enrolled_on="2026-05-20")
    pr = enrol_over_api(gnv, "GNV-204", timezone="America/Puerto_Rico", enrolled_on="2026-05-20")
    la_d7 = by_code(give(gnv, la, 1, "2026-06-01T08:00"))["INF1_D7"]
    pr_d7 = by_code(give(gnv, pr, 1, "2026-06-01T08:00"))["INF1_D7"]
    assert la_d7["window_start_local"] == "2026-06-06T00:00:00-07:00"
    assert la_d7["window_start_utc"] == "2026-06-06T07:00:00+00:00"
    assert pr_d7["window_start_local"] == "2026-06-06T00:00:00-04:00"
    assert pr_d7["window_start_utc"] == "2026-06-06T04:00:00+00:00"
    # Puerto Rico has no DST: a winter window keeps the same -04:00 offset.
    clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    pr_winter = by_code(give(gnv, pr, 2, "2026-12-01T08:00"))["INF2_D7"]
    assert pr_winter["window_start_local"] == "2026-12-06T00:00:00-04:00"


def test_calendar_lists_openings_and_closings_in_local_days_for_own_sites(gnv, clock,
                                                                          staff_client):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-205", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    events = gnv.get("/api/v1/calendar?start=2026-03-10&end=2026-03-15").json
    mine = [(e["kind"], e["at_local"]) for e in events if e["subject_key"] == "GNV-205"]
    assert mine == [("window_opens", "2026-03-10T00:00:00-04:00"),
                    ("window_closes", "2026-03-15T00:00:00-04:00")]
    mia = staff_client("coordinator.mia@example.org")
    other = mia.get("/api/v1/calendar?start=2026-03-10&end=2026-03-15").json
    assert all(e["site_code"] == "MIA" for e in other)
