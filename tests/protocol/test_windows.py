"""Local-day windows and their UTC instants, across DST changes and odd zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pro_server.local_time import local_day_instant, local_to_utc, zone
from pro_server.protocol.windows import day_window, last_local_day

NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    "name", ["", "Mars/Olympus_Mons", "America/New_York/", " America/New_York", "../etc/passwd"]
)
def test_invalid_time_zone_names_raise_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        zone(name)


def test_invalid_time_zone_in_a_window_raises_value_error() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone: 'EST-Florida'"):
        day_window(date(2026, 3, 6), date(2026, 3, 10), "EST-Florida")


def test_window_over_spring_forward_is_an_hour_short_in_utc() -> None:
    window = day_window(date(2026, 3, 6), date(2026, 3, 10), NEW_YORK)
    assert window.start_local.isoformat() == "2026-03-06T00:00:00-05:00"
    assert window.end_local.isoformat() == "2026-03-11T00:00:00-04:00"
    assert window.start_utc == datetime(2026, 3, 6, 5, tzinfo=UTC)
    assert window.end_utc == datetime(2026, 3, 11, 4, tzinfo=UTC)
    assert window.duration == timedelta(days=5, hours=-1)


def test_window_over_fall_back_is_an_hour_long_in_utc() -> None:
    window = day_window(date(2026, 10, 30), date(2026, 11, 3), NEW_YORK)
    assert window.start_local.isoformat() == "2026-10-30T00:00:00-04:00"
    assert window.end_local.isoformat() == "2026-11-04T00:00:00-05:00"
    assert window.duration == timedelta(days=5, hours=1)


def test_window_in_a_zone_without_dst_is_whole_days_in_utc() -> None:
    window = day_window(date(2026, 10, 30), date(2026, 11, 3), "America/Puerto_Rico")
    assert window.start_utc == datetime(2026, 10, 30, 4, tzinfo=UTC)
    assert window.duration == timedelta(days=5)


def test_window_contains_is_half_open() -> None:
    window = day_window(date(2026, 3, 10), date(2026, 3, 10), NEW_YORK)
    assert window.contains(datetime(2026, 3, 10, 4, tzinfo=UTC))
    assert window.contains(datetime(2026, 3, 11, 3, 59, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 3, 11, 4, tzinfo=UTC))
    assert not window.contains(datetime(2026, 3, 10, 3, 59, 59, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        window.contains(datetime(2026, 3, 10, 12))


def test_configured_open_and_close_times() -> None:
    window = day_window(
        date(2026, 3, 6),
        date(2026, 3, 10),
        NEW_YORK,
        opens_after_midnight=timedelta(hours=8),
        closes_after_midnight=timedelta(hours=20),
    )
    assert window.start_local.isoformat() == "2026-03-06T08:00:00-05:00"
    assert window.end_local.isoformat() == "2026-03-10T20:00:00-04:00"


def test_skipped_wall_time_resolves_to_the_jump() -> None:
    assert local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK) == datetime(
        2026, 3, 8, 7, tzinfo=UTC
    )


def test_skipped_midnight_opens_the_day_at_the_jump() -> None:
    # Cuba springs forward at 00:00 -> 01:00 on 2026-03-08: that day starts at 01:00.
    start = local_day_instant(date(2026, 3, 8), timedelta(0), "America/Havana")
    assert start.astimezone(zone("America/Havana")).isoformat() == "2026-03-08T01:00:00-04:00"


def test_repeated_wall_time_honours_fold() -> None:
    first = local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK)
    second = local_to_utc(datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK)
    assert (first, second) == (
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    )


def test_local_to_utc_rejects_aware_input() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_to_utc(datetime(2026, 3, 8, 2, 30, tzinfo=UTC), NEW_YORK)


def test_reversed_days_and_out_of_range_times_raise() -> None:
    with pytest.raises(ValueError, match="before its first day"):
        day_window(date(2026, 3, 10), date(2026, 3, 9), NEW_YORK)
    with pytest.raises(ValueError, match=r"00:00\.\.24:00"):
        local_day_instant(date(2026, 3, 10), timedelta(hours=25), NEW_YORK)


def test_last_local_day_of_a_window_ending_at_midnight() -> None:
    window = day_window(date(2026, 3, 10), date(2026, 3, 14), NEW_YORK)
    assert last_local_day(window.start_utc, window.end_utc, NEW_YORK) == date(2026, 3, 14)
    assert last_local_day(window.start_utc, window.start_utc, NEW_YORK) == date(2026, 3, 10)


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Puerto_Rico",
    "America/Havana",
    "America/Santiago",
    "Asia/Beirut",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Africa/Casablanca",
    "Antarctica/Troll",
    "Pacific/Chatham",
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2015, 1, 1), max_value=date(2037, 12, 31)),
    span=st.integers(min_value=0, max_value=40),
    split=st.integers(min_value=0, max_value=40),
)
@example(tz="America/Havana", first=date(2024, 11, 3), span=0, split=0)  # midnight twice
def test_windows_are_whole_local_days(tz: str, first: date, span: int, split: int) -> None:
    last = first + timedelta(days=span)
    window = day_window(first, last, tz)
    info = zone(tz)
    start_local, end_local = window.start_local, window.end_local
    second = timedelta(seconds=1)  # subtracted in UTC: aware local arithmetic is wall-clock
    # Both ends are the first instant of their local day (01:00 where midnight is skipped).
    assert start_local.date() == first
    assert start_local.time() < time(2, 0)
    assert (window.start_utc - second).astimezone(info).date() == first - timedelta(days=1)
    assert end_local.date() == last + timedelta(days=1)
    assert (window.end_utc - second).astimezone(info).date() == last
    # UTC and local are the same instant (converted, not compared across zones: Python never
    # finds an ambiguous local time, e.g. Havana's doubled midnight, equal to a UTC time);
    # DST changes move the length by at most 2 hours.
    assert start_local.astimezone(UTC) == window.start_utc
    assert window.start_utc.tzinfo is UTC
    assert abs(window.duration - timedelta(days=span + 1)) <= timedelta(hours=2)
    # Splitting a run of days gives two windows that meet exactly.
    middle = first + timedelta(days=min(split, span))
    if middle > first:
        left = day_window(first, middle - timedelta(days=1), tz)
        right = day_window(middle, last, tz)
        assert left.end_utc == right.start_utc
        assert left.duration + right.duration == window.duration
