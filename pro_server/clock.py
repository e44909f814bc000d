"""The one clock every part of the service reads time from.

Business rules take `now` as an argument; services get it from the clock they are given.
Tests use `FixedClock`; `pro simulate` moves a development clock by storing an offset.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock.set needs a timezone-aware datetime")
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class OffsetClock:
    """System time plus an offset kept in a file, shared by the web and scheduler processes.

    Development only: `pro simulate --days N` adds to the offset so a newcomer can watch
    windows open and reminders go out.
    """

    def __init__(self, offset_file: Path) -> None:
        self.offset_file = offset_file

    def offset(self) -> timedelta:
        try:
            return timedelta(seconds=float(self.offset_file.read_text().strip() or 0))
        except FileNotFoundError:
            return timedelta(0)

    def advance(self, delta: timedelta) -> datetime:
        new = self.offset() + delta
        self.offset_file.parent.mkdir(parents=True, exist_ok=True)
        self.offset_file.write_text(str(new.total_seconds()))
        return self.now()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()
