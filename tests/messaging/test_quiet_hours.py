from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pro_server.messaging.quiet_hours import (
    QuietHours,
    is_allowed,
    local_instant,
    next_allowed,
)

NY = ZoneInfo("America/New_York")
PR = ZoneInfo("America/Puerto_Rico")


def local(tz, *args, fold=0):
    return datetime(*args, tzinfo=tz, fold=fold).astimezone(UTC)


def wall(moment, tz):
    return moment.astimezone(tz).replace(tzinfo=None)


def test_inside_allowed_hours_is_unchanged():
    due = local(NY, 2026, 5, 4, 12, 15)
    assert next_allowed(due, NY) == due


def test_early_morning_waits_for_nine_local():
    due = local(NY, 2026, 5, 4, 7, 30)
    assert wall(next_allowed(due, NY), NY) == datetime(2026, 5, 4, 9, 0)


def test_evening_waits_for_next_morning():
    due = local(NY, 2026, 5, 4, 21, 0)
    assert wall(next_allowed(due, NY), NY) == datetime(2026, 5, 5, 9, 0)


def test_window_end_is_exclusive_and_start_inclusive():
    assert wall(next_allowed(local(NY, 2026, 5, 4, 20, 0), NY), NY) == datetime(2026, 5, 5, 9)
    nine = local(NY, 2026, 5, 4, 9, 0)
    assert next_allowed(nine, NY) == nine
    late = local(NY, 2026, 5, 4, 19, 59, 59)
    assert next_allowed(late, NY) == late


def test_result_is_utc():
    result = next_allowed(datetime(2026, 5, 4, 3, 0, tzinfo=NY), NY)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("due_local", "expected_local", "expected_utc"),
    [
        # 2026-03-08: clocks spring forward 02:00 EST -> 03:00 EDT
        ((2026, 3, 7, 21, 0), (2026, 3, 8, 9, 0), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        ((2026, 3, 8, 1, 30), (2026, 3, 8, 9, 0), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        ((2026, 3, 8, 3, 30), (2026, 3, 8, 9, 0), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        # 2026-11-01: clocks fall back 02:00 EDT -> 01:00 EST
        ((2026, 10, 31, 22, 0), (2026, 11, 1, 9, 0), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
        ((2026, 11, 1, 1, 30), (2026, 11, 1, 9, 0), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_local_nine_holds_across_dst(due_local, expected_local, expected_utc):
    result = next_allowed(local(NY, *due_local), NY)
    assert wall(result, NY) == datetime(*expected_local)
    assert result == expected_utc


def test_both_passes_of_the_repeated_hour_wait_for_nine():
    first = local(NY, 2026, 11, 1, 1, 30, fold=0)
    second = local(NY, 2026, 11, 1, 1, 30, fold=1)
    assert second - first == timedelta(hours=1)
    assert next_allowed(first, NY) == next_allowed(second, NY) == local(NY, 2026, 11, 1, 9, 0)


def test_puerto_rico_has_no_dst():
    # Atlantic Standard Time, UTC-4 all year: 09:00 local is 13:00 UTC in March and November.
    for day in (datetime(2026, 3, 8, 6, tzinfo=PR), datetime(2026, 11, 1, 6, tzinfo=PR)):
        result = next_allowed(day.astimezone(UTC), PR)
        assert result.hour == 13
        assert wall(result, PR).time() == time(9, 0)


def test_nonexistent_local_time_moves_forward_by_the_gap():
    # 02:30 does not exist on 2026-03-08 in New York: it becomes 03:30 EDT (fold=0 rule).
    instant = local_instant(datetime(2026, 3, 8).date(), time(2, 30), NY)
    assert wall(instant, NY) == datetime(2026, 3, 8, 3, 30)
    # An allowed window starting inside the gap therefore opens at 03:30 that day.
    result = next_allowed(local(NY, 2026, 3, 8, 1, 0), NY, start=time(2, 30), end=time(20))
    assert wall(result, NY) == datetime(2026, 3, 8, 3, 30)


def test_ambiguous_local_time_means_the_first_occurrence():
    instant = local_instant(datetime(2026, 11, 1).date(), time(1, 30), NY)
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST


def test_custom_window_per_study():
    hours = QuietHours.from_config({"start": "08:00", "end": "21:00"})
    due = local(NY, 2026, 5, 4, 8, 15)
    assert hours.next_allowed(due, "America/New_York") == due
    assert not hours.is_allowed(local(NY, 2026, 5, 4, 21, 0), NY)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="aware"):
        next_allowed(datetime(2026, 5, 4, 12), NY)
    with pytest.raises(ValueError, match="start before"):
        QuietHours(start=time(20), end=time(9))
    with pytest.raises(ValueError, match="unknown keys"):
        QuietHours.from_config({"begin": "09:00"})


ZONES = [
    "America/New_York",
    "America/Puerto_Rico",
    "America/Los_Angeles",
    "Europe/Madrid",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
]


@settings(max_examples=300, deadline=None)
@given(
    due=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    zone_name=st.sampled_from(ZONES),
)
def test_next_allowed_properties(due, zone_name):
    tz = ZoneInfo(zone_name)
    result = next_allowed(due, tz)
    assert result >= due
    assert is_allowed(result, tz)
    if is_allowed(due, tz):
        assert result == due
    else:
        # The first allowed instant: exactly 09:00 local on the same or the next local day.
        assert result.astimezone(tz).time() == time(9, 0)
        day_gap = (result.astimezone(tz).date() - due.astimezone(tz).date()).days
        assert day_gap in (0, 1)
        assert not is_allowed(result - timedelta(seconds=1), tz)
