"""CSV downloads of the grid and the attention list (and the helpers every staff CSV uses).

Cells that a spreadsheet would run as a formula (starting with = + - @ or a control
character) are prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain

from pro_server.dashboard.attention import KINDS, Item
from pro_server.dashboard.grid import Row
from pro_server.edc.csvout import csv_stream
from pro_server.protocol.windows import utc_to_local

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV a chunk at a time (a streamed download), every cell formula-safe."""
    return csv_stream([_safe(v) for v in row] for row in chain([header], rows))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return b"".join(csv_chunks(header, rows)).decode("utf-8")


def grid_csv(rows: list[Row], codes: list[str]) -> str:
    def cell(row: Row, code: str) -> str:
        c = row.cells.get(code)
        if c is None:
            return ""
        if c.completed_at is not None:
            return f"{c.label} {utc_to_local(c.completed_at, row.timezone).date().isoformat()}"
        return f"{c.label} (window {c.first_day} to {c.last_day})"

    return to_csv(["subject_key", "site", "participant_status", *codes],
                  ([r.subject_key, r.site_code, r.status.value, *(cell(r, c) for c in codes)]
                   for r in rows))


def attention_csv(items: list[Item]) -> str:
    return to_csv(
        ["what", "subject_key", "site", "assessment", "when_local", "detail", "next_step"],
        ([KINDS[i.kind][0], i.subject_key, i.site_code, i.assessment_code,
          utc_to_local(i.at, i.timezone).isoformat(timespec="minutes") if i.at else "",
          i.detail, KINDS[i.kind][1]] for i in items))
