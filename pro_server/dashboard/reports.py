"""Study-wide reports: completion week by week, and score distributions per assessment.

Both read one study and the sites the caller may read (the dashboard's Scope); neither
knows or shows treatment arm (the platform never stores it).

Completion: a survey counts in the ISO week (Monday to Sunday, in the study's time zone)
in which its window closed, once its outcome is settled at ``now``: completed, or missed
(window over, not completed, not cancelled, not being finished in the grace period).
Windows still open, surveys still being finished and cancelled ones are not counted yet.
The counting is one SQL GROUP BY over the study's assessments, the week found by a CASE over
the week boundaries (computed here with zoneinfo): O(A x W) comparisons in the database for A
assessments and W weeks, and O(W x S x C) grouped rows (weeks x sites x assessment codes)
brought to Python, independent of the number of participants.

Scores: each score the trend charts use (`trends.SERIES`), from current response versions
only, per assessment code: n, median, quartiles (``statistics.quantiles``, method
"inclusive", i.e. linear interpolation between order statistics as in Excel's
QUARTILE.INC and R's type 7), min and max. The values are read from `response_score`, the
narrow table the services keep beside the JSON (one row per score of each current version):
the database counts each distinct value of each score per assessment code from the table's
index, O(R) for R current responses of the reported instruments, and only the V distinct
values travel with their counts (V is small: a score is a sum of a few answers). SQLite has no
percentile function, so the quartiles are taken in Python from the values repeated by their
counts, O(R).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import Session

from pro_server.dashboard.grid import Scope
from pro_server.dashboard.trends import SERIES, score_label
from pro_server.local_time import START_OF_DAY, local_day_instant, utc_to_local
from pro_server.protocol.definitions import default_registry
from pro_server.responses.models import ResponseScore
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site

QUANTILE_METHOD: Final = "inclusive"
WEEK_RULE = ("A survey counts in the ISO week (Monday to Sunday, {tz}) in which its window "
             "closed, once settled: completed, or missed. Due = completed + missed. Windows "
             "still open, surveys being finished in the grace period and cancelled surveys are "
             "not counted. Rate = completed / due.")
QUANTILE_RULE = ("Median and quartiles by Python statistics.quantiles, method 'inclusive' "
                 "(linear interpolation, as Excel QUARTILE.INC and R type 7). Current versions "
                 "of each answer only; a score the manual leaves unscored is counted as not "
                 "scored, not as a value.")


@dataclass(frozen=True)
class WeekCount:
    """Settled surveys of one week; `site_code` or `assessment_code` None means all of them."""

    week: str  # ISO week, "2026-W09"
    week_starts: date  # its Monday
    site_code: str | None
    assessment_code: str | None
    completed: int
    missed: int

    @property
    def due(self) -> int:
        return self.completed + self.missed

    @property
    def rate_percent(self) -> float | None:
        return round(100 * self.completed / self.due, 1) if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "week_starts": self.week_starts, "site_code": self.site_code,
                "assessment_code": self.assessment_code, "due": self.due,
                "completed": self.completed, "missed": self.missed,
                "rate_percent": self.rate_percent}


@dataclass(frozen=True)
class Completion:
    timezone: str
    weeks: list[tuple[str, date]]  # every week from the first settled survey to now's week
    codes: list[str]
    rows: list[WeekCount]


def assessment_codes(scope: Scope, found: Iterable[str]) -> list[str]:
    """The current protocol's assessments in calendar order, then any other code found."""
    codes = list(default_registry().current(scope.study.code).assessment_codes)
    return codes + sorted(set(found) - set(codes))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _mondays(first: date, last: date) -> list[date]:
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def completion(session: Session, scope: Scope, sites: list[Site], now: datetime,
               grace: timedelta) -> Completion:
    tz = scope.study.default_timezone
    a = Assessment
    in_scope = (a.study_id == scope.study.id, a.site_id.in_(scope.site_ids), a.window_end <= now)
    first_end = session.scalar(select(func.min(a.window_end)).where(*in_scope))
    if first_end is None:
        return Completion(tz, [], assessment_codes(scope, ()), [])
    # The week of a window is the week of its last instant (end - 1 µs), as last_day is.
    mondays = _mondays(utc_to_local(first_end - timedelta(microseconds=1), tz).date(),
                       utc_to_local(now, tz).date())
    bounds = [local_day_instant(m, START_OF_DAY, tz) for m in [*mondays,
                                                                mondays[-1] + timedelta(days=7)]]
    # Week index of each window: the first Monday boundary at or after its end (a flat CASE,
    # evaluated in the database; SQLite has no time zones, so the boundaries come from here).
    week = case(*((a.window_end <= bounds[i + 1], i) for i in range(len(mondays))),
                else_=len(mondays) - 1).label("week")
    completed = and_(a.completed_at.is_not(None), a.completed_at <= now)
    cancelled = and_(a.cancelled_at.is_not(None), a.cancelled_at <= now)
    finishing = and_(a.started_at.is_not(None), a.started_at <= now,
                     a.started_at < a.window_end, a.window_end > now - grace)
    missed = not_(or_(completed, cancelled, finishing))
    grouped = session.execute(
        select(week, a.site_id, a.code,
               func.sum(case((completed, 1), else_=0)), func.sum(case((missed, 1), else_=0)))
        .where(*in_scope)
        .group_by(week, a.site_id, a.code)
    ).all()
    site_code = {s.id: s.code for s in sites}
    labels = [(iso_week(m), m) for m in mondays]
    totals: dict[tuple[int, str | None, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for idx, site_id, code, done, lost in grouped:
        for key in ((idx, site_code[site_id], code), (idx, site_code[site_id], None),
                    (idx, None, code), (idx, None, None)):
            totals[key][0] += int(done)
            totals[key][1] += int(lost)
    codes = assessment_codes(scope, {code for _i, _s, code, _d, _l in grouped})
    site_order = {s.code: n for n, s in enumerate(sites)}
    code_order = {c: n for n, c in enumerate(codes)}
    rows = [WeekCount(labels[idx][0], labels[idx][1], site, code, done, lost)
            for (idx, site, code), (done, lost) in sorted(totals.items(), key=lambda kv: (
                kv[0][0], -1 if kv[0][1] is None else site_order[kv[0][1]],
                -1 if kv[0][2] is None else code_order[kv[0][2]]))
            if done + lost]
    return Completion(tz, labels, codes, rows)


# --- score distributions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    n: int
    not_scored: int
    median: float | None
    q1: float | None
    q3: float | None
    low: float | None
    high: float | None


def distribution(values_: list[float], not_scored: int = 0) -> Distribution:
    """n, quartiles (method "inclusive"), min and max; a single value is all of them."""
    data = sorted(values_)
    if not data:
        return Distribution(0, not_scored, None, None, None, None, None)
    if len(data) == 1:
        v = data[0]
        return Distribution(1, not_scored, v, v, v, v, v)
    q1, median, q3 = statistics.quantiles(data, n=4, method=QUANTILE_METHOD)
    return Distribution(len(data), not_scored, median, q1, q3, data[0], data[-1])


def score_distributions(session: Session, scope: Scope, now: datetime) -> dict[str, Any]:
    """Each score's values are counted in `response_score` (one row per score of a current
    version, kept by the services), in one GROUP BY its index serves: no JSON is decoded, and
    a score's distinct values (few: scores are sums of a few answers) travel once each with
    their count."""
    s = ResponseScore
    keys: dict[str, list[str]] = defaultdict(list)
    for instrument, key, *_ in SERIES:
        keys[instrument].append(key)
    found: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    unscored: dict[tuple[str, str, str], int] = defaultdict(int)
    codes_found: set[str] = set()
    grouped = (s.instrument_code, s.score_key, s.assessment_code, s.value)
    for instrument, key, code, value, count in session.execute(
        select(*grouped, func.count())
        .where(s.study_id == scope.study.id,
               or_(*(and_(s.instrument_code == instrument, s.score_key.in_(names))
                     for instrument, names in keys.items())),
               s.site_id.in_(scope.site_ids), s.submitted_at <= now)
        .group_by(*grouped)
    ):
        codes_found.add(code)
        if value is None:
            unscored[(instrument, key, code)] += count
        else:
            found[(instrument, key, code)].extend([value] * count)
    codes = assessment_codes(scope, codes_found)
    series = []
    for instrument, key, low, high, higher_is_better in SERIES:
        label, unit = score_label(instrument, key)
        per_code = []
        for code in codes:
            d = distribution(found.get((instrument, key, code), []),
                             unscored.get((instrument, key, code), 0))
            if d.n or d.not_scored:
                per_code.append({"assessment_code": code, **asdict(d)})
        series.append({"instrument": instrument, "key": key, "label": label, "unit": unit,
                       "scale_min": low, "scale_max": high,
                       "higher_is_better": higher_is_better, "assessments": per_code})
    return {"codes": codes, "series": series}
