"""Study overview: completion per assessment and per site, counted from the grid's cells."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pro_server.dashboard.cells import BUCKET_OF, BUCKETS
from pro_server.dashboard.grid import Row
from pro_server.studies.models import Site


def _counts(counter: Counter[str]) -> dict[str, Any]:
    counts = {bucket: counter.get(bucket, 0) for bucket in BUCKETS}
    due = counts["on_time"] + counts["late"] + counts["missed"]
    done = counts["on_time"] + counts["late"]
    return {**counts, "total": sum(counts.values()),
            "completion_percent": round(100 * done / due) if due else None}


def summarise(rows: list[Row], codes: list[str], sites: list[Site]) -> dict[str, Any]:
    """Counts per assessment code (all sites), and per site per code with site totals.

    `completion_percent` is done / (done + missed): of the surveys whose window is over,
    how many were answered. A site's `participants` are those with a survey in the counts
    (the headline says as much); `left_out` names the others (screening, or withdrawn with
    every survey cancelled), so the headline and the bars count the same people.
    """
    by_code: dict[str, Counter[str]] = {code: Counter() for code in codes}
    by_site: dict[int, dict[str, Counter[str]]] = {
        s.id: {code: Counter() for code in codes} for s in sites}
    participants: Counter[int] = Counter()
    left_out: list[dict[str, str]] = []
    for row in rows:
        counted = False
        for code, cell in row.cells.items():
            bucket = BUCKET_OF[cell.status]
            if bucket is None:
                continue
            counted = True
            by_code[code][bucket] += 1
            by_site[row.site_id][code][bucket] += 1
        if counted:
            participants[row.site_id] += 1
        else:
            left_out.append({"subject_key": row.subject_key, "site_code": row.site_code,
                             "status": row.status.value})
    return {
        "left_out": left_out,
        "buckets": list(BUCKETS),
        "assessments": [{"code": code, "counts": _counts(by_code[code])} for code in codes],
        "sites": [
            {"id": s.id, "code": s.code, "name": s.name, "participants": participants[s.id],
             "counts": _counts(sum(by_site[s.id].values(), Counter())),
             "assessments": [{"code": code, "counts": _counts(by_site[s.id][code])}
                             for code in codes]}
            for s in sites
        ],
        "totals": _counts(sum(by_code.values(), Counter())),
    }
