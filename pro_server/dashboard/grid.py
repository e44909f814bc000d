"""The participant grid: a row per participant, a cell per assessment, derived on read.

The grid is read a page at a time, in subject key order (the key is unique in a study, so
"after this key" is a stable cursor); filters (site, participant status, part of the
subject key) are applied in SQL. Only the page's participants are derived: three
column-only queries (participants, their assessments, their infusions) feed a page,
whatever its size. Assessments not created yet (their infusion is still to come) are
projected with the planner, as the schedule view does; projections depend only on the
recorded facts, so they are cached. `bench/dashboard.py` times the first page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pro_server.dashboard.cells import Cell, cell_status
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.definitions import UnknownProtocolError, default_registry
from pro_server.protocol.planner import InfusionRecord, project_calendar
from pro_server.protocol.status import derive_status
from pro_server.schedule.missed import reason_label
from pro_server.schedule.models import Assessment, Infusion
from pro_server.studies.models import Site, Study


@dataclass
class Row:
    participant_id: int
    subject_key: str
    site_id: int
    site_code: str
    status: ParticipantStatus
    timezone: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """Which participants a read covers: one study, the sites the caller may read."""

    study: Study
    site_ids: frozenset[int]
    statuses: tuple[ParticipantStatus, ...] = ()
    participant_id: int | None = None
    search: str = ""  # part of the subject key, any case


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int  # participants matching the scope, on every page
    next: str | None  # the cursor of the next page (its last subject key), None at the end


def columns(session: Session, scope: Scope) -> list[str]:
    """The current protocol's assessments in calendar order, then other codes in use.

    Other codes come from the study's earlier protocol versions; they are shown only when
    a participant in the scope's sites has such an assessment.
    """
    registry = default_registry()
    codes = list(registry.current(scope.study.code).assessment_codes)
    older = {c for p in registry.versions(scope.study.code) for c in p.assessment_codes}
    older -= set(codes)
    if older:
        codes += sorted(session.scalars(
            select(Assessment.code).distinct()
            .join(Participant, Participant.id == Assessment.participant_id)
            .where(Assessment.study_id == scope.study.id, Assessment.code.in_(older),
                   Participant.site_id.in_(scope.site_ids))))
    return codes


def participants(scope: Scope) -> Select:
    """The participants a read covers (participant and site columns), unordered."""
    query = (
        select(Participant.id, Participant.subject_key, Participant.site_id, Site.code,
               Participant.status, Participant.timezone, Participant.enrolled_on,
               Participant.protocol_version)
        .join(Site, Site.id == Participant.site_id)
        .where(Participant.study_id == scope.study.id, Participant.site_id.in_(scope.site_ids))
    )
    if scope.statuses:
        query = query.where(Participant.status.in_(scope.statuses))
    if scope.participant_id is not None:
        query = query.where(Participant.id == scope.participant_id)
    if scope.search:
        pattern = scope.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Participant.subject_key.ilike(f"%{pattern}%", escape="\\"))
    return query


def load_rows(session: Session, scope: Scope, now: datetime, grace: timedelta) -> list[Row]:
    """Every participant of the scope, derived (one participant's timeline, the CSV)."""
    people = session.execute(participants(scope).order_by(Participant.subject_key)).all()
    return _derive(session, scope, people, now, grace)


def _after(session: Session, scope: Scope, after: str | None, limit: int) -> Sequence[Any]:
    """Up to `limit` participants (their columns) following the subject key `after`."""
    query = participants(scope).order_by(Participant.subject_key).limit(limit)
    if after is not None:
        query = query.where(Participant.subject_key > after)
    return session.execute(query).all()


def load_page(session: Session, scope: Scope, now: datetime, grace: timedelta, *,
              limit: int, after: str | None = None) -> Page:
    """Up to `limit` participants after the cursor, derived; the scope's total count."""
    people = _after(session, scope, after, limit + 1)
    more = len(people) > limit
    people = people[:limit]
    total = session.scalar(select(func.count()).select_from(participants(scope).subquery()))
    return Page(_derive(session, scope, people, now, grace), total or 0,
                people[-1].subject_key if more else None)


def pages(session: Session, scope: Scope, now: datetime, grace: timedelta,
          size: int = 500) -> Iterator[list[Row]]:
    """The whole scope a page at a time (a download streams it without holding it all)."""
    after = None
    while True:
        people = _after(session, scope, after, size)
        if not people:
            return
        yield _derive(session, scope, people, now, grace)
        if len(people) < size:
            return
        after = people[-1].subject_key


def _derive(session: Session, scope: Scope, people: Sequence[Any], now: datetime,
            grace: timedelta) -> list[Row]:
    rows = {p.id: Row(p.id, p.subject_key, p.site_id, p.code, p.status, p.timezone)
            for p in people}
    ids = list(rows)
    _add_assessments(session, rows, ids, now, grace)
    records = _infusion_records(session, ids)
    for p in people:
        if p.status is ParticipantStatus.enrolled and p.enrolled_on is not None:
            _add_projections(rows[p.id], scope.study.code, p.protocol_version, p.timezone,
                             p.enrolled_on, records.get(p.id, []))
    return list(rows.values())


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    """Bound the IN lists (SQLite allows a limited number of parameters per statement)."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _add_assessments(session: Session, rows: dict[int, Row], ids: list[int], now: datetime,
                     grace: timedelta) -> None:
    for chunk in _chunks(ids):
        for a in session.execute(
            select(Assessment.id, Assessment.participant_id, Assessment.code,
                   Assessment.window_start, Assessment.window_end, Assessment.first_day,
                   Assessment.last_day, Assessment.started_at, Assessment.completed_at,
                   Assessment.cancelled_at, Assessment.missed_reason,
                   Assessment.missed_reason_text)
            .where(Assessment.participant_id.in_(chunk))
        ):
            status = derive_status(a.window_start, a.window_end, now, started_at=a.started_at,
                                   completed_at=a.completed_at, cancelled_at=a.cancelled_at,
                                   grace=grace)
            rows[a.participant_id].cells[a.code] = Cell(
                a.code, cell_status(status, a.window_end, a.completed_at), a.window_start,
                a.window_end, a.first_day, a.last_day, a.completed_at, a.id,
                missed_reason=reason_label(a.missed_reason, a.missed_reason_text))


def _infusion_records(session: Session, ids: list[int]) -> dict[int, list[InfusionRecord]]:
    records: dict[int, list[InfusionRecord]] = defaultdict(list)
    for chunk in _chunks(ids):
        for i in session.execute(
            select(Infusion.participant_id, Infusion.number, Infusion.status,
                   Infusion.planned_date, Infusion.given_at_local, Infusion.reason)
            .where(Infusion.participant_id.in_(chunk)).order_by(Infusion.number)
        ):
            records[i.participant_id].append(InfusionRecord(
                number=i.number, status=i.status, planned_date=i.planned_date,
                given_at_local=i.given_at_local, reason=i.reason))
    return records


def _add_projections(row: Row, study_code: str, version: str | None, tz: str, enrolled_on: date,
                     records: list[InfusionRecord]) -> None:
    for code, start, end, first, last in projected_windows(
            study_code, int(version or 0), tz, enrolled_on, tuple(records)):
        if code not in row.cells:
            row.cells[code] = Cell(code, "upcoming", start, end, first, last, projected=True)


@lru_cache(maxsize=8192)
def projected_windows(study_code: str, version: int, tz: str, enrolled_on: date,
                      records: tuple[InfusionRecord, ...]) -> tuple[tuple, ...]:
    """The planner's projections (pure, so cached: the same facts give the same windows)."""
    try:
        protocol = default_registry().get(study_code, version)
        planned = project_calendar(protocol, tz, enrolled_on, records)
    except (UnknownProtocolError, ValueError):
        return ()  # an inconsistent record shows no projections; the schedule page names it
    return tuple((a.code, a.window_start_utc, a.window_end_utc, a.first_day, a.last_day)
                 for a in planned if a.projected)
