"""CSV downloads of the grid and the attention list.

Cells that a spreadsheet would run as a formula (starting with = + - @ or a control
character) are prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from pro_server.dashboard.attention import KINDS, Item
from pro_server.dashboard.grid import Row
from pro_server.protocol.windows import utc_to_local

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(header: Sequence[str],
               chunks: Iterable[Iterable[Sequence[object]]]) -> Iterator[str]:
    """The header, then each chunk of rows as one piece of text (for a streamed body)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_safe(h) for h in header])
    for rows in chunks:
        writer.writerows([_safe(v) for v in row] for row in rows)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return "".join(csv_chunks(header, [rows]))


def grid_csv(pages: Iterable[list[Row]], codes: list[str]) -> Iterator[str]:
    """The grid a page at a time (pro_server.dashboard.grid.pages)."""
    def cell(row: Row, code: str) -> str:
        c = row.cells.get(code)
        if c is None:
            return ""
        if c.completed_at is not None:
            return f"{c.label} {utc_to_local(c.completed_at, row.timezone).date().isoformat()}"
        return f"{c.label} (window {c.first_day} to {c.last_day})"

    return csv_chunks(
        ["subject_key", "site", "participant_status", *codes],
        (([r.subject_key, r.site_code, r.status.value, *(cell(r, c) for c in codes)]
          for r in rows) for rows in pages))


def attention_csv(items: list[Item]) -> str:
    return to_csv(
        ["what", "subject_key", "site", "assessment", "when_local", "detail", "next_step"],
        ([KINDS[i.kind][0], i.subject_key, i.site_code, i.assessment_code,
          utc_to_local(i.at, i.timezone).isoformat(timespec="minutes") if i.at else "",
          i.detail, KINDS[i.kind][1]] for i in items))
