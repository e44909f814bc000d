"""Status derived from the window, the stored facts and the clock, with no job running."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from pro_server.protocol.planner import InfusionRecord, plan_assessments
from pro_server.protocol.status import (
    ACCEPTS_RESPONSES,
    TERMINAL,
    derive_status,
    next_status_change,
)

START = datetime(2026, 3, 10, 4, tzinfo=UTC)
END = datetime(2026, 3, 15, 4, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "facts", "expected"),
    [
        (START - HOUR, {}, "scheduled"),
        (START, {}, "open"),
        (END - timedelta(microseconds=1), {}, "open"),
        (END, {}, "missed"),
        (START + HOUR, {"started_at": START}, "in_progress"),
        (END, {"started_at": START}, "missed"),
        (START + 2 * HOUR, {"started_at": START, "completed_at": START + HOUR}, "completed"),
        (END + 72 * HOUR, {"started_at": START, "completed_at": START + HOUR}, "completed"),
        (START - HOUR, {"cancelled_at": START - 2 * HOUR}, "cancelled"),
        (END + HOUR, {"cancelled_at": START}, "cancelled"),
        (END, {"completed_at": START + HOUR, "cancelled_at": START + 2 * HOUR}, "completed"),
        # Facts stamped after "now" have not happened yet.
        (START + HOUR, {"started_at": START + 2 * HOUR}, "open"),
        (START + HOUR, {"completed_at": START + 2 * HOUR}, "open"),
        (START + HOUR, {"cancelled_at": START + 2 * HOUR}, "open"),
    ],
)
def test_status_table(now: datetime, facts: dict, expected: str) -> None:
    assert derive_status(START, END, now, **facts) == expected


def test_grace_lets_a_started_response_finish_but_nobody_start_late() -> None:
    grace = timedelta(hours=2)
    assert derive_status(START, END, END + HOUR, started_at=START, grace=grace) == "in_progress"
    assert derive_status(START, END, END + 2 * HOUR, started_at=START, grace=grace) == "missed"
    assert derive_status(START, END, END + HOUR, grace=grace) == "missed"


@pytest.mark.parametrize("field", ["window_start_utc", "now_utc", "started_at"])
def test_naive_datetimes_are_rejected(field: str) -> None:
    arguments = {"window_start_utc": START, "now_utc": START, "started_at": None}
    arguments[field] = datetime(2026, 3, 10, 4)
    with pytest.raises(ValueError, match=f"{field} must be a timezone-aware"):
        derive_status(
            arguments["window_start_utc"],
            END,
            arguments["now_utc"],
            started_at=arguments["started_at"],
        )


def test_negative_grace_is_rejected() -> None:
    with pytest.raises(ValueError, match="grace"):
        derive_status(START, END, START, grace=-HOUR)


def test_status_works_with_any_aware_offset() -> None:
    new_york_noon = datetime.fromisoformat("2026-03-15T00:30:00-04:00")  # 04:30 UTC
    assert derive_status(START, END, new_york_noon) == "missed"


def test_status_sets() -> None:
    assert {"open", "in_progress"} == ACCEPTS_RESPONSES
    assert {"completed", "missed", "cancelled"} == TERMINAL


def test_next_status_change() -> None:
    assert next_status_change(START, END, START - HOUR) == START
    assert next_status_change(START, END, START) == END
    started = {"started_at": START, "grace": HOUR}
    assert next_status_change(START, END, START + HOUR, **started) == END + HOUR
    assert next_status_change(START, END, END + 2 * HOUR) is None
    assert next_status_change(START, END, START + HOUR, completed_at=START) is None


@for_all(offsets=st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=2, max_size=8))
def test_without_facts_time_only_moves_scheduled_open_missed_forward(offsets: list[int]) -> None:
    rank = {"scheduled": 0, "open": 1, "missed": 2}
    ranks = [rank[derive_status(START, END, START + timedelta(minutes=m))] for m in sorted(offsets)]
    assert ranks == sorted(ranks)


def test_read_three_days_later_with_no_job_running(v2, given) -> None:
    """Acceptance (6): the stored facts and the clock alone give the right status."""
    plan = plan_assessments(
        v2, "America/New_York", date(2026, 2, 20), [given(1, "2026-03-05 10:00")]
    )
    d7 = plan[1]
    three_days = timedelta(days=3)

    def status_at(now: datetime, **facts) -> str:
        return derive_status(d7.window_start_utc, d7.window_end_utc, now, **facts)

    # Opened three days ago (local midnight 2026-03-10), nobody touched it: still open.
    assert status_at(d7.window_start_utc + three_days) == "open"
    # Closed three days ago (end of 2026-03-14 local), never completed: missed.
    assert status_at(d7.window_end_utc + three_days) == "missed"
    # Started but abandoned: missed too; completed inside the window: completed.
    started = d7.window_start_utc + timedelta(hours=9)
    assert status_at(d7.window_end_utc + three_days, started_at=started) == "missed"
    assert (
        status_at(d7.window_end_utc + three_days, started_at=started, completed_at=started + HOUR)
        == "completed"
    )


def test_baseline_status_follows_infusion_1_facts(v2, given) -> None:
    enrolled = date(2026, 2, 20)
    planned = [InfusionRecord(1, "planned", planned_date=date(2026, 3, 2))]
    now = datetime(2026, 3, 20, 15, tzinfo=UTC)  # three days after the cap (end of 03-16)
    capped = plan_assessments(v2, "America/New_York", enrolled, planned)[0]
    assert derive_status(capped.window_start_utc, capped.window_end_utc, now) == "missed"
    # The site reschedules infusion 1: the same read, with the new fact, shows it open again.
    rescheduled = [InfusionRecord(1, "planned", planned_date=date(2026, 3, 25))]
    reopened = plan_assessments(v2, "America/New_York", enrolled, rescheduled)[0]
    assert derive_status(reopened.window_start_utc, reopened.window_end_utc, now) == "open"
    # Infusion 1 given at 10:30 EDT (14:30 UTC): baseline is closed from that moment.
    done = plan_assessments(v2, "America/New_York", enrolled, [given(1, "2026-03-20 10:30")])[0]
    assert derive_status(done.window_start_utc, done.window_end_utc, now) == "missed"
    assert derive_status(done.window_start_utc, done.window_end_utc, now - HOUR) == "open"
