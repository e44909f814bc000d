"""CSV downloads of the grid and the attention list (formula-safe: pro_server.spreadsheet_csv)."""

from __future__ import annotations

from pro_server.dashboard.attention import KINDS, Item
from pro_server.dashboard.grid import Row
from pro_server.protocol.windows import utc_to_local
from pro_server.spreadsheet_csv import to_csv


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
