"""Study overview: completion per assessment and per site, counted in SQL.

The counts are the grid's cells counted by bucket, without deriving any participant:
- an assessment row's status is `derive_status` written as a SQL CASE over its window, its
  facts and the clock (pro_server.protocol.status; cells.cell_status splits completed
  into on time and late);
- the assessments the grid projects from planned infusion dates are counted with the
  planner's projection rule (pro_server.protocol.planner.project_calendar) written over
  one row of facts per participant (their infusions and assessment codes as bit sets):
  participants with the same facts are counted together, then joined with the
  assessments of their protocol version.
tests/dashboard/test_overview_sql.py checks both against the per-participant derivation.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from pro_server.dashboard.cells import BUCKETS
from pro_server.dashboard.grid import Scope, participants
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.definitions import default_registry
from pro_server.schedule.models import Assessment, Infusion
from pro_server.studies.models import Site

# (site id, assessment code, bucket or "cancelled") -> surveys
Tally = Counter[tuple[int, str, str]]


def bucket(now: datetime, grace: timedelta) -> ColumnElement[str]:
    """An assessment row's overview bucket at `now` ("cancelled" is not counted)."""
    a = Assessment
    happened = lambda at: and_(at.is_not(None), at <= now)  # noqa: E731
    return case(
        (happened(a.completed_at),
         case((a.completed_at > a.window_end, "late"), else_="on_time")),
        (happened(a.cancelled_at), "cancelled"),
        (a.window_start > now, "upcoming"),
        # Started inside the window: it may be finished within the grace period.
        (and_(happened(a.started_at), a.started_at < a.window_end),
         case((a.window_end > now - grace, "open"), else_="missed")),
        (a.window_end > now, "open"),
        else_="missed",
    )


def _recorded(session: Session, scope: Scope, now: datetime, grace: timedelta) -> Tally:
    people = participants(scope).subquery()
    # The bucket is worked out once per row in a subquery the database keeps apart (OFFSET 0):
    # grouped by the CASE itself, SQLite sorted on it and worked it out again (a third of
    # the overview at 10,000 participants).
    cells = (select(people.c.site_id, Assessment.code, bucket(now, grace).label("bucket"))
             .join(Assessment, Assessment.participant_id == people.c.id)
             .offset(0).subquery())
    query = (select(cells.c.site_id, cells.c.code, cells.c.bucket, func.count())
             .group_by(cells.c.site_id, cells.c.code, cells.c.bucket))
    return Counter({(site, code, b): n for site, code, b, n in session.execute(query)})


def _bits(column: InstrumentedAttribute[Any], bits: dict[Any, int]) -> ColumnElement[int]:
    """`column`'s bit (a power of two) from `bits`, NULL for values not in it. INTEGER when
    the bits fit: PostgreSQL sums INTEGER as BIGINT, but BIGINT as (slower) NUMERIC."""
    kind = Integer if max(bits.values(), default=0) < 1 << 31 else BigInteger
    return case(*((column == value, literal(bit, kind)) for value, bit in bits.items()))


def _bit_set(bit: ColumnElement[Any]) -> ColumnElement[int]:
    """The sum of distinct bits, as BIGINT (PostgreSQL sums BIGINT as NUMERIC, whose
    division is not integer division; INTEGER it sums as BIGINT already)."""
    return cast(func.sum(bit), BigInteger)


def _specs(scope: Scope) -> Subquery:
    """The protocol versions' post-infusion assessments as a table (SQLite has no VALUES
    with column names): version, code, infusion, and the bits `_participant_facts` sets
    for the infusion number and for the code."""
    registry = default_registry()
    specs_of = [(str(p.version), a.code, a.infusion)
                for p in registry.versions(scope.study.code) for a in p.assessments]
    code_bit = _code_bits(scope)
    return union_all(*(
        select(literal(version, String).label("version"), literal(code, String).label("code"),
               literal(n, Integer).label("infusion"),
               literal(_number_bit(n), BigInteger).label("infusion_bit"),
               literal(code_bit[code], BigInteger).label("code_bit"))
        for version, code, n in specs_of)).subquery("spec")


def _number_bit(number: int) -> int:
    if number > MAX_BITS:
        raise ValueError(f"the overview counts infusions 1..{MAX_BITS}, not {number}")
    return 1 << number


# Bit sets are summed as BIGINT: 63 bits for the codes (and infusion numbers) of a study.
MAX_BITS = 62


def _code_bits(scope: Scope) -> dict[str, int]:
    """A bit per assessment code of the study's protocol versions."""
    codes = {c for p in default_registry().versions(scope.study.code) for c in p.assessment_codes}
    if len(codes) > MAX_BITS:
        raise ValueError(f"{scope.study.code}: the overview counts at most {MAX_BITS} "
                         f"assessment codes per study, the protocols define {len(codes)}")
    return {c: 1 << k for k, c in enumerate(sorted(codes))}


def counts(now: datetime) -> ColumnElement[bool]:
    """An assessment row is counted at `now`: its bucket is not "cancelled" (it was
    completed, or it is not cancelled yet)."""
    a = Assessment
    return or_(a.completed_at <= now, a.cancelled_at.is_(None), a.cancelled_at > now)


def _participant_facts(scope: Scope, people: FromClause) -> Subquery:
    """One row per participant of `people` (columns of `participants`) with what the
    overview needs to know about them, summed from their infusions and assessment rows in
    two grouped passes:
    - `projectable` (1 or NULL): enrolled, with infusion records the planner accepts (no
      infusion given, nor infusion 1 planned, before enrolment);
    - `last_given` (0 if none), `day0` (1 if Day 0 is known: infusion 1 given or planned);
    - `recorded` and `dated`: the infusion numbers recorded as given or not given, and
      those with a planned date, as sums of bits (one row per participant and number);
    - `codes`: the codes with an assessment row, as a sum of bits.
    Probing the infusion and assessment tables per (participant, code) made PostgreSQL,
    which cannot estimate how many pairs pass, loop over 50,000 pairs at 10,000
    participants; these are one row per participant, joined by hash.
    """
    number_bit = {n: _number_bit(n) for p in default_registry().versions(scope.study.code)
                  for n in range(1, p.infusion_count + 1)}
    i = Infusion
    infusions = (select(
        i.participant_id,
        func.max(case((i.status == "given", i.number))).label("last_given"),
        # Day 0: the date infusion 1 was given, else the date it is planned on.
        func.max(case((and_(i.number == 1, or_(i.given_at_local.is_not(None),
                                                 i.planned_date.is_not(None))), 1))
                 ).label("day0"),
        func.min(i.given_at_local).label("first_given"),
        func.max(case((and_(i.number == 1, i.given_at_local.is_(None)), i.planned_date))
                 ).label("day0_planned"),
        _bit_set(case((i.status != "planned", _bits(i.number, number_bit)))).label("recorded"),
        _bit_set(case((i.planned_date.is_not(None), _bits(i.number, number_bit)))
                 ).label("dated"),
    ).where(i.participant_id.in_(select(people.c.id)))
     .group_by(i.participant_id).subquery())
    a = Assessment
    rows = (select(a.participant_id, _bit_set(_bits(a.code, _code_bits(scope))).label("codes"))
            .where(a.participant_id.in_(select(people.c.id)))
            .group_by(a.participant_id).subquery())
    projectable = and_(
        people.c.status == ParticipantStatus.enrolled, people.c.enrolled_on.is_not(None),
        infusions.c.participant_id.is_not(None),
        or_(infusions.c.first_given.is_(None), infusions.c.first_given >= people.c.enrolled_on),
        or_(infusions.c.day0_planned.is_(None),
            infusions.c.day0_planned >= people.c.enrolled_on))
    return (
        select(people.c.id, people.c.site_id, people.c.code.label("site_code"),
               people.c.subject_key, people.c.status,
               people.c.protocol_version.label("version"),
               case((projectable, 1)).label("projectable"),
               func.coalesce(infusions.c.last_given, 0).label("last_given"),
               infusions.c.day0,
               func.coalesce(infusions.c.recorded, 0).label("recorded"),
               func.coalesce(infusions.c.dated, 0).label("dated"),
               func.coalesce(rows.c.codes, 0).label("codes"))
        .select_from(people)
        .outerjoin(infusions, infusions.c.participant_id == people.c.id)
        .outerjoin(rows, rows.c.participant_id == people.c.id)
        .subquery("facts"))


def _has(mask: ColumnElement[Any], bit: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether the bit (a power of two) is set in `mask` (a sum of distinct bits)."""
    return (mask // bit) % 2 == 1


def _projects(facts: FromClause, spec: Subquery) -> ColumnElement[bool]:
    """The assessment `spec` is projected for a participant with these `facts` (columns of
    `_participant_facts`), as `project_calendar` projects it.

    For an enrolled participant, an assessment of infusion n of their protocol version is
    projected when n comes after the last given infusion, infusion n is not recorded as
    given or not given, its date is known (Day 0 is known, or the site planned infusion n)
    and no assessment row has its code. Records the planner refuses (an infusion given,
    or infusion 1 planned, before enrolment) project nothing, as on the grid.
    """
    f = facts.c
    return and_(f.projectable.is_not(None), spec.c.version == f.version,
                spec.c.infusion > f.last_given, ~_has(f.recorded, spec.c.infusion_bit),
                or_(f.day0.is_not(None), _has(f.dated, spec.c.infusion_bit)),
                ~_has(f.codes, spec.c.code_bit))


def _projected(session: Session, scope: Scope) -> Tally:
    """The projected surveys by site and code. Participants with the same facts project
    the same surveys: they are counted together, then joined with the protocol."""
    facts = _participant_facts(scope, participants(scope).subquery())
    same = [facts.c.site_id, facts.c.version, facts.c.last_given, facts.c.day0,
            facts.c.recorded, facts.c.dated, facts.c.codes, facts.c.projectable]
    groups = (select(*same, func.count().label("n")).where(facts.c.projectable.is_not(None))
              .group_by(*same).subquery())
    spec = _specs(scope)
    query = (select(groups.c.site_id, spec.c.code, func.sum(groups.c.n))
             .join(spec, _projects(groups, spec)).group_by(groups.c.site_id, spec.c.code))
    return Counter({(site, code, "upcoming"): int(n) for site, code, n in session.execute(query)})


def tally(session: Session, scope: Scope, now: datetime, grace: timedelta) -> Tally:
    """Every cell of the scope's grid by site, code and bucket, counted in the database."""
    return _recorded(session, scope, now, grace) + _projected(session, scope)


def counted_participants(session: Session, scope: Scope, now: datetime,
                         grace: timedelta) -> tuple[Counter[int], list[dict[str, str]]]:
    """Per site, the participants with at least one survey in the counts, so the headline
    counts the same people as the bars; and the others by name (screening, withdrawn before
    any survey), so nobody is left out silently.

    The others are found without counting anyone's surveys: those with no assessment row
    counted (one index probe each, stopping at the first row that counts), less those of
    them with a projected survey; the rest of each site is counted.
    """
    del grace  # whether a row is counted ("cancelled" or not) does not depend on it
    counted_row = select(Assessment.id).where(Assessment.participant_id == Participant.id,
                                              counts(now))
    # A CTE: worked out once, though the facts read it three times.
    unsurveyed = participants(scope).where(~counted_row.exists()).cte("unsurveyed")
    facts = _participant_facts(scope, unsurveyed)
    spec = _specs(scope)
    others = session.execute(
        select(facts.c.site_id, facts.c.subject_key, facts.c.site_code, facts.c.status)
        .where(~select(spec.c.code).where(_projects(facts, spec)).exists())
        .order_by(facts.c.subject_key)).all()
    people = participants(scope).subquery()
    per_site = Counter(dict(session.execute(
        select(people.c.site_id, func.count()).group_by(people.c.site_id)).tuples().all()))
    per_site.subtract(site_id for site_id, *_ in others)
    left_out = [{"subject_key": key, "site_code": site, "status": status.value}
                for _site_id, key, site, status in others]
    return +per_site, left_out


def _counts(counter: Counter[str]) -> dict[str, Any]:
    counts = {bucket: counter.get(bucket, 0) for bucket in BUCKETS}
    due = counts["on_time"] + counts["late"] + counts["missed"]
    done = counts["on_time"] + counts["late"]
    return {**counts, "total": sum(counts.values()),
            "completion_percent": round(100 * done / due) if due else None}


def summarise(tallied: Tally, people: Counter[int], codes: list[str], sites: list[Site],
              left_out: list[dict[str, str]]) -> dict[str, Any]:
    """Counts per assessment code (all sites), and per site per code with site totals.

    `completion_percent` is done / (done + missed): of the surveys whose window is over,
    how many were answered. A site's `participants` are those with a survey in the counts
    (the headline says as much); `left_out` names the others (screening, or withdrawn with
    every survey cancelled), so the headline and the bars count the same people.
    """
    by_code: dict[str, Counter[str]] = {code: Counter() for code in codes}
    by_site: dict[int, dict[str, Counter[str]]] = {
        s.id: {code: Counter() for code in codes} for s in sites}
    for (site, code, bucket_), n in tallied.items():
        if bucket_ not in BUCKETS or site not in by_site:
            continue
        by_code[code][bucket_] += n
        by_site[site][code][bucket_] += n
    return {
        "left_out": left_out,
        "buckets": list(BUCKETS),
        "assessments": [{"code": code, "counts": _counts(by_code[code])} for code in codes],
        "sites": [
            {"id": s.id, "code": s.code, "name": s.name, "participants": people[s.id],
             "counts": _counts(sum(by_site[s.id].values(), Counter())),
             "assessments": [{"code": code, "counts": _counts(by_site[s.id][code])}
                             for code in codes]}
            for s in sites
        ],
        "totals": _counts(sum(by_code.values(), Counter())),
    }
