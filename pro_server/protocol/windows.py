"""Local calendar days in an IANA time zone -> UTC windows (pure).

A window is a run of whole local days: it opens at a wall-clock time on its first day and
closes at a wall-clock time on its last day (24 h = the end of that day), exclusive. In UTC
it is therefore an hour shorter across a spring-forward and an hour longer across a
fall-back (the conversions are pro_server.local_time's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pro_server.local_time import (
    END_OF_DAY,
    START_OF_DAY,
    local_day_instant,
    require_aware,
    utc_to_local,
)


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) tied to the local days it covers."""

    tz: str
    first_day: date
    last_day: date
    start_utc: datetime
    end_utc: datetime

    @property
    def start_local(self) -> datetime:
        return utc_to_local(self.start_utc, self.tz)

    @property
    def end_local(self) -> datetime:
        return utc_to_local(self.end_utc, self.tz)

    @property
    def duration(self) -> timedelta:
        return self.end_utc - self.start_utc

    def contains(self, instant: datetime) -> bool:
        require_aware(instant, "instant")
        return self.start_utc <= instant < self.end_utc


def day_window(
    first_day: date,
    last_day: date,
    tz: str,
    *,
    opens_after_midnight: timedelta = START_OF_DAY,
    closes_after_midnight: timedelta = END_OF_DAY,
) -> Window:
    """The window covering local days ``first_day..last_day`` (inclusive) in ``tz``."""
    if last_day < first_day:
        raise ValueError(f"window last day {last_day} is before its first day {first_day}")
    return Window(
        tz=tz,
        first_day=first_day,
        last_day=last_day,
        start_utc=local_day_instant(first_day, opens_after_midnight, tz),
        end_utc=local_day_instant(last_day, closes_after_midnight, tz),
    )


def last_local_day(start_utc: datetime, end_utc: datetime, tz: str) -> date:
    """The local date of the last instant inside [start, end); the first day if it is empty."""
    if end_utc <= start_utc:
        return utc_to_local(start_utc, tz).date()
    return utc_to_local(end_utc - timedelta(microseconds=1), tz).date()
