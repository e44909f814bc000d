"""CSV downloads of the grid, the attention list and the study-wide reports (formula-safe:
pro_server.spreadsheet_csv)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from pro_server.dashboard.attention import KINDS, Item
from pro_server.dashboard.grid import Row
from pro_server.dashboard.reports import WeekCount
from pro_server.local_time import utc_to_local
from pro_server.spreadsheet_csv import csv_chunks, to_csv


def grid_csv(pages: Iterable[list[Row]], codes: list[str]) -> Iterator[bytes]:
    """The grid a page at a time (pro_server.dashboard.grid.pages); a missed survey carries
    the reason a coordinator recorded, as on the grid."""
    def cell(row: Row, code: str) -> str:
        c = row.cells.get(code)
        if c is None:
            return ""
        if c.completed_at is not None:
            return f"{c.label} {utc_to_local(c.completed_at, row.timezone).date().isoformat()}"
        reason = f": {c.missed_reason}" if c.missed_reason else ""
        return f"{c.label}{reason} (window {c.first_day} to {c.last_day})"

    return csv_chunks(
        ["subject_key", "site", "participant_status", *codes],
        ([r.subject_key, r.site_code, r.status.value, *(cell(r, c) for c in codes)]
         for r in chain.from_iterable(pages)))


def attention_csv(items: list[Item]) -> str:
    return to_csv(
        ["what", "subject_key", "site", "assessment", "when_local", "detail", "next_step"],
        ([KINDS[i.kind][0], i.subject_key, i.site_code, i.assessment_code,
          utc_to_local(i.at, i.timezone).isoformat(timespec="minutes") if i.at else "",
          i.detail, KINDS[i.kind][1]] for i in items))


def completion_csv(rows: Iterable[WeekCount]) -> str:
    return to_csv(
        ["week", "week_starts", "site", "assessment", "due", "completed", "missed",
         "rate_percent"],
        ([r.week, r.week_starts.isoformat(), r.site_code or "all", r.assessment_code or "all",
          r.due, r.completed, r.missed, "" if r.rate_percent is None else r.rate_percent]
         for r in rows))


def scores_csv(series: Iterable[dict[str, Any]]) -> str:
    def num(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return to_csv(
        ["instrument", "score", "label", "assessment", "n", "not_scored", "median", "q1", "q3",
         "min", "max"],
        ([s["instrument"], s["key"], s["label"], d["assessment_code"], d["n"], d["not_scored"],
          num(d["median"]), num(d["q1"]), num(d["q3"]), num(d["low"]), num(d["high"])]
         for s in series for d in s["assessments"]))
