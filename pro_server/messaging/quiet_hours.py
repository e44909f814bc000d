"""Quiet hours in the participant's local time.

Allowed window is [start, end) local wall-clock time (default 09:00 to 20:00): a message
due at 20:00:00 waits for the next morning. Local times are turned into instants with
``zoneinfo`` and PEP 495 ``fold=0``, which is a deliberate choice for the two DST edge cases:

- a local time that does not exist (spring-forward gap, e.g. 02:30 on 2026-03-08 in New
  York) is moved forward by the length of the gap (03:30 EDT), never earlier;
- a local time that happens twice (fall-back, e.g. 01:30 on 2026-11-01) means the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_START = time(9, 0)
DEFAULT_END = time(20, 0)


def as_zone(tz: tzinfo | str) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def parse_hhmm(value: str | time) -> time:
    """'09:00' -> time(9, 0)."""
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def local_instant(day: date, at: time, tz: tzinfo | str) -> datetime:
    """The UTC instant at which the local clock in ``tz`` shows ``day`` ``at`` (see module
    docstring for gaps and repeated hours)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=as_zone(tz))
    return local.astimezone(UTC)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected an aware datetime (UTC)")


def _check_window(start: time, end: time) -> None:
    if not start < end:
        raise ValueError("quiet hours: the allowed window must start before it ends")


def is_allowed(
    at_utc: datetime, tz: tzinfo | str, start: time = DEFAULT_START, end: time = DEFAULT_END
) -> bool:
    _require_aware(at_utc)
    _check_window(start, end)
    wall = at_utc.astimezone(as_zone(tz)).time().replace(tzinfo=None, fold=0)
    return start <= wall < end


def next_allowed(
    due_utc: datetime,
    tz: tzinfo | str,
    start: time = DEFAULT_START,
    end: time = DEFAULT_END,
) -> datetime:
    """``due_utc`` itself if it falls within allowed hours, else the next local ``start``."""
    _require_aware(due_utc)
    _check_window(start, end)
    zone = as_zone(tz)
    due_utc = due_utc.astimezone(UTC)
    local = due_utc.astimezone(zone)
    wall = local.time().replace(tzinfo=None, fold=0)
    if start <= wall < end:
        return due_utc
    day = local.date() if wall < start else local.date() + timedelta(days=1)
    candidate = local_instant(day, start, zone)
    # A gap-shifted start may still lie before due_utc only in pathological zones; be safe.
    while candidate < due_utc:
        day += timedelta(days=1)
        candidate = local_instant(day, start, zone)
    return candidate


@dataclass(frozen=True)
class QuietHours:
    """A study's allowed sending window (configurable per study)."""

    start: time = DEFAULT_START
    end: time = DEFAULT_END

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)

    @classmethod
    def from_config(cls, config: dict[str, str] | None) -> QuietHours:
        """``{"start": "09:00", "end": "20:00"}``; missing keys keep the defaults."""
        config = config or {}
        unknown = set(config) - {"start", "end"}
        if unknown:
            raise ValueError(f"quiet hours: unknown keys {sorted(unknown)}")
        return cls(
            start=parse_hhmm(config.get("start", DEFAULT_START)),
            end=parse_hhmm(config.get("end", DEFAULT_END)),
        )

    def next_allowed(self, due_utc: datetime, tz: tzinfo | str) -> datetime:
        return next_allowed(due_utc, tz, self.start, self.end)

    def is_allowed(self, at_utc: datetime, tz: tzinfo | str) -> bool:
        return is_allowed(at_utc, tz, self.start, self.end)
