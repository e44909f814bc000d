"""Wall-clock time in an IANA time zone <-> UTC instants (pure, ``zoneinfo`` only).

Every feature that shows or reads a local time uses these. Wall-clock times that do not exist
(skipped by a DST jump) resolve to the first instant after the jump; repeated ones resolve to
their first occurrence unless ``fold=1``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

START_OF_DAY = timedelta(0)
END_OF_DAY = timedelta(hours=24)


def zone(tz: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; a clear ValueError for anything else."""
    if not isinstance(tz, str) or not tz.strip() or tz != tz.strip():
        raise ValueError(f"invalid IANA time zone name: {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {tz!r}") from exc


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def local_to_utc(wall_time: datetime, tz: str) -> datetime:
    """A naive local wall-clock time in ``tz`` as an aware UTC datetime.

    A time skipped by a forward jump becomes the instant of the jump (the first instant whose
    wall clock is at or after it); an ambiguous time honours ``wall_time.fold``.
    """
    if wall_time.tzinfo is not None:
        raise ValueError(f"expected a naive local wall-clock time, got {wall_time!r}")
    info = zone(tz)
    candidate = wall_time.replace(tzinfo=info).astimezone(UTC)
    if _wall(candidate, info) == wall_time.replace(fold=0):
        return candidate
    return _forward_jump_instant(wall_time, info)


def local_day_instant(day: date, after_midnight: timedelta, tz: str) -> datetime:
    """The UTC instant of ``after_midnight`` (0..24 h) on local calendar ``day``."""
    if not START_OF_DAY <= after_midnight <= END_OF_DAY:
        raise ValueError(f"time of day must be within 00:00..24:00, got {after_midnight}")
    return local_to_utc(datetime.combine(day, datetime.min.time()) + after_midnight, tz)


def utc_to_local(instant: datetime, tz: str) -> datetime:
    require_aware(instant, "instant")
    return instant.astimezone(zone(tz))


def _wall(instant: datetime, info: ZoneInfo) -> datetime:
    return instant.astimezone(info).replace(tzinfo=None, fold=0)


def _forward_jump_instant(wall_time: datetime, info: ZoneInfo) -> datetime:
    """Binary-search the transition that skipped ``wall_time`` (transitions fall on seconds)."""
    one = wall_time.replace(tzinfo=info, fold=0).astimezone(UTC)
    two = wall_time.replace(tzinfo=info, fold=1).astimezone(UTC)
    before, after = int(min(one, two).timestamp()), int(max(one, two).timestamp())
    offset_before = datetime.fromtimestamp(before, info).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, info).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)
