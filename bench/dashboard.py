"""How long the dashboard's first screens take for a study of 500 (or more) participants.

Builds a scratch database (a temporary SQLite file, or the empty database at --database-url),
loads the demo study (sites, staff, its participants) through the real services, then adds
participants with realistic rows in bulk: enrolments spread over 14 months, infusions given
on the protocol's dates (a few days late now and then), and every assessment the planner
schedules, answered on time, late or never. Then it moves the clock on as `pro simulate`
does (the same function: every job at each hour), so windows open and close and the
scheduler records it. It runs ANALYZE (production has autovacuum), signs in and calls the
endpoints through the app, as the pages do: the overview (the landing page's one call), the
grid's first screen (the first page of enrolled participants, what the Participants page asks
for first), the next page, a search, and the whole grid as CSV. It prints time and bytes
beside floors timed in the same run: the bare SELECT of the first page's participant and
assessment rows, and of every participant and assessment row, fetched through the driver.
Then the first screen: the overview and the grid's first page back to back, as a coordinator
opening the dashboard waits for them. Each line carries the CPU time beside the wall
time (this process's, which with SQLite includes the database's work, and on a PostgreSQL
server on this machine the server's) and the 1-minute load average (the machine may be
shared: the CPU times are the steadier number). Nothing is asserted; the
scratch folder is removed (the run says so).

    .venv/bin/python bench/dashboard.py [--participants 500] [--repeat 7] [--simulate-days 2]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import Engine, insert, select, text

# Run as a script from a checkout: the repository root holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pro_server import create_app
from pro_server.clock import FixedClock
from pro_server.config import Settings
from pro_server.context import Actor, ServiceContext
from pro_server.dashboard.schemas import GRID_PAGE
from pro_server.db import make_engine
from pro_server.demo import load_demo
from pro_server.jobs import simulate
from pro_server.local_time import local_to_utc
from pro_server.migrate import upgrade
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.definitions import default_registry
from pro_server.protocol.planner import (
    InfusionRecord,
    plan_assessments,
    planned_infusion_dates,
)
from pro_server.protocol.status import derive_status
from pro_server.schedule.models import Assessment, Infusion
from pro_server.studies.models import Site, Study

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
TZ = "America/New_York"
GRACE = timedelta(hours=12)


def _infusions(rng: random.Random, protocol, enrolled_on, today) -> list[InfusionRecord]:  # type: ignore[no-untyped-def]
    day0 = enrolled_on + timedelta(days=rng.randint(7, 14))
    records = []
    for number, planned in planned_infusion_dates(protocol, day0).items():
        given = planned + timedelta(days=rng.choice((0, 0, 0, 1, 2, 3)))
        if given >= today:
            break
        records.append(InfusionRecord(number, "given",
                                      given_at_local=datetime.combine(given, clock_time(9, 30))))
    return records


def _fate(rng: random.Random, planned, now: datetime) -> dict:  # type: ignore[no-untyped-def]
    """When (if ever) the participant started and finished this survey."""
    start, end = planned.window_start_utc, planned.window_end_utc
    roll = rng.random()
    if roll < 0.7:
        done = start + (end - start) * rng.uniform(0.05, 0.6)
        started = done - timedelta(minutes=rng.randint(4, 20))
    elif roll < 0.8:
        started, done = end - timedelta(hours=1), end + timedelta(hours=rng.randint(1, 10))
    else:
        started = done = None
    if done is not None and done > now:
        started = done = None  # not yet
    return {"started_at": started, "completed_at": done}


def add_participants(ctx: ServiceContext, study: Study, sites: list[Site], count: int) -> int:
    """`count` participants as bulk rows; returns how many assessment rows were written."""
    rng = random.Random(20260301)
    protocol = default_registry().current(study.code)
    now = ctx.now()
    today = now.date()
    people = []
    for n in range(count):
        site = sites[n % len(sites)]
        status = rng.choices([ParticipantStatus.enrolled, ParticipantStatus.withdrawn,
                              ParticipantStatus.screening], weights=[90, 7, 3])[0]
        enrolled_on = today - timedelta(days=rng.randint(0, 420))
        people.append(Participant(
            study_id=study.id, site_id=site.id, subject_key=f"{site.code}-B{n:04d}",
            status=status, language=rng.choice(("en", "es")), timezone=TZ,
            phone=f"+1352555{n:04d}", sms_consent=True, sms_consent_at=now,
            sms_consent_source="bench", reminder_time="10:00",
            enrolled_on=None if status is ParticipantStatus.screening else enrolled_on,
            protocol_version=str(protocol.version), created_at=now, updated_at=now,
            withdrawn_at=now if status is ParticipantStatus.withdrawn else None))
    ctx.session.add_all(people)
    ctx.session.flush()
    infusions, assessments = [], []
    for p in people:
        if p.enrolled_on is None:
            continue
        records = _infusions(rng, protocol, p.enrolled_on, today)
        infusions += [{"participant_id": p.id, "number": r.number, "status": "given",
                       "given_at_local": r.given_at_local,
                       "given_at": local_to_utc(r.given_at_local, TZ),
                       "created_at": now, "updated_at": now} for r in records]
        for planned in plan_assessments(protocol, TZ, p.enrolled_on, records):
            facts = _fate(rng, planned, now)
            cancelled = now if (p.status is ParticipantStatus.withdrawn
                                and facts["completed_at"] is None) else None
            status = derive_status(planned.window_start_utc, planned.window_end_utc, now,
                                   cancelled_at=cancelled, grace=GRACE, **facts)
            assessments.append({
                "participant_id": p.id, "study_id": study.id, "site_id": p.site_id,
                "code": planned.code, "sequence": planned.sequence, "anchor": planned.anchor,
                "protocol_version": str(protocol.version),
                "instruments": list(planned.instruments), "timezone": TZ,
                "first_day": planned.first_day, "last_day": planned.last_day,
                "window_start": planned.window_start_utc, "window_end": planned.window_end_utc,
                "window_version": 1, "recorded_status": status, "cancelled_at": cancelled,
                "created_at": now, "updated_at": now, **facts})
    if infusions:
        ctx.session.execute(insert(Infusion), infusions)
    ctx.session.execute(insert(Assessment), assessments)
    return len(assessments)


def timed(client, url: str, repeat: int,  # type: ignore[no-untyped-def]
          clock: CpuClock) -> tuple[float, list[float], list[float], list[float], int]:
    """The first call (cold: planner projections not cached yet), then `repeat` more: the
    first's ms, each later call's wall ms, CPU ms (this process, the database server's),
    and bytes."""
    start = time.perf_counter()
    client.get(url)
    first = (time.perf_counter() - start) * 1000
    times, cpu, server, size = [], [], [], 0
    for _ in range(repeat):
        own, db = clock.now()
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        own_end, db_end = clock.now()
        cpu.append(own_end - own)
        server.append(db_end - db)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        size = len(response.data)
    return first, times, cpu, server, size


class CpuClock:
    """CPU ms used so far by this process and, on a PostgreSQL server on this machine, by
    the server processes of the bench's database (from /proc): CPU time, unlike the wall
    clock, does not grow when other work shares the machine."""

    def __init__(self, engine: Engine) -> None:
        self.database = (engine.url.database or "") if engine.dialect.name == "postgresql" \
            else ""
        self.tick = os.sysconf("SC_CLK_TCK")
        self.monitor = engine

    def server(self) -> float:
        if not self.database:
            return 0.0
        with self.monitor.connect() as conn:
            pids = conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self.database}).all()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the server is elsewhere, or the backend has gone
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total * 1000 / self.tick

    def now(self) -> tuple[float, float]:
        return time.process_time() * 1000, self.server()


def cpu_text(own: list[float], server: list[float]) -> str:
    text_ = f"CPU median {statistics.median(own):4.0f} ms"
    if any(server):
        text_ += f" + db server {statistics.median(server):4.0f} ms"
    return f"({text_})"


def load() -> str:
    """The machine's 1-minute load average (as `uptime` prints it): shared machines are noisy."""
    return f"load {os.getloadavg()[0]:4.1f}"


def first_screen(client, paths: list[str], repeat: int,  # type: ignore[no-untyped-def]
                 clock: CpuClock) -> tuple[list[float], list[float], list[float], int]:
    """`repeat` times, what a page asks for on opening, back to back: total ms, this
    process's CPU ms (with SQLite the database's work too; less sensitive to a loaded
    machine than the wall clock) and the database server's, and bytes."""
    totals, cpu, server, size = [], [], [], 0
    for _ in range(repeat):
        own, db = clock.now()
        start, size = time.perf_counter(), 0
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            size += len(response.data)
        totals.append((time.perf_counter() - start) * 1000)
        own_end, db_end = clock.now()
        cpu.append(own_end - own)
        server.append(db_end - db)
    return totals, cpu, server, size


def floor(engine: Engine, repeat: int) -> float:
    """Median ms to fetch every participant and assessment row of the study, bare."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with engine.connect() as conn:
            for table in ("participant", "assessment"):
                conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def page_floor(engine: Engine, repeat: int, size: int = GRID_PAGE) -> float:
    """Median ms to fetch one page of participants and their assessment rows, bare."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with engine.connect() as conn:
            ids = [r[0] for r in conn.exec_driver_sql(
                "SELECT id FROM participant WHERE status = 'enrolled' ORDER BY subject_key "  # noqa: S608
                f"LIMIT {size}").fetchall()]
            marks = ", ".join(str(i) for i in ids)
            conn.exec_driver_sql(
                f"SELECT * FROM assessment WHERE participant_id IN ({marks})").fetchall()  # noqa: S608
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def analyze(engine: Engine) -> None:
    """Planner statistics, as autovacuum keeps them in production."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--simulate-days", type=int, default=2,
                        help="days `pro simulate` moves the clock on after the build")
    parser.add_argument("--database-url", default="",
                        help="an empty database to use instead of a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as workdir:
        bench(args, Path(workdir))
    print(f"scratch folder {workdir} removed: {not Path(workdir).exists()}")


def bench_app(database_url: str, workdir: Path) -> Flask:
    """The app on an empty, migrated database (a temporary SQLite file unless a URL is given),
    with throwaway keys and the bench's fixed clock."""
    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.scalar(select(Study.id).limit(1)) is not None:
            sys.exit(f"{url} already holds a study: the bench needs an empty database")
    settings = Settings(env="test", database_url=url, secret_key="bench-" + "x" * 32,
                        data_keys=(Fernet.generate_key().decode(),),
                        phone_lookup_key=secrets.token_hex(32), instance_path=workdir,
                        log_level="WARNING")
    return create_app(settings, clock=FixedClock(NOW), engine=engine)


def bench(args: argparse.Namespace, workdir: Path) -> None:
    app = bench_app(args.database_url, workdir)
    pro = app.extensions["pro"]
    engine = pro["engine"]
    ctx = ServiceContext.of_app(pro, Actor.system("bench"))

    email = "investigator@example.org"  # both sites, like a monitor: the whole study
    started = time.perf_counter()
    passwords = {c.email: c.password for c in load_demo(ctx)}
    study = ctx.session.scalar(select(Study))
    sites = list(ctx.session.scalars(select(Site).order_by(Site.code)))
    rows = add_participants(ctx, study, sites, args.participants - 12)
    ctx.session.commit()
    total = ctx.session.scalar(select(Participant.id).order_by(Participant.id.desc()).limit(1))
    print(f"built {total} participants ({rows} assessment rows) on "
          f"{engine.dialect.name} in {time.perf_counter() - started:.1f} s; "
          f"calls as {email}, {args.repeat} after the first")
    if args.simulate_days:
        started = time.perf_counter()
        with app.app_context():
            done = simulate(app, args.simulate_days)
        print(f"pro simulate --days {args.simulate_days}: clock now "
              f"{pro['clock'].now().isoformat(timespec='minutes')}, jobs did "
              + ", ".join(f"{job} {n}" for job, n in done.items())
              + f" in {time.perf_counter() - started:.1f} s")
    ctx.session.close()
    analyze(engine)
    bare = floor(engine, args.repeat)
    page = page_floor(engine, args.repeat)
    print(f"floors: bare SELECT of a page ({GRID_PAGE}) of participants and their assessment "
          f"rows, median {page:.1f} ms; of every participant and assessment row, "
          f"median {bare:.0f} ms")

    clock = CpuClock(engine)
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    signed = client.post("/api/v1/auth/login", headers={"X-CSRFToken": token},
                         json={"email": email, "password": passwords[email]})
    assert signed.status_code == 200, signed.json
    grid = f"/api/v1/dashboard/grid?status=enrolled&limit={GRID_PAGE}"
    for name, path, base in (
            ("overview", "/api/v1/dashboard/overview", bare),
            ("grid 1st screen", grid, page),
            ("grid next page", f"{grid}&after=", page),  # the cursor, once the first is timed
            ("grid search", f"/api/v1/dashboard/grid?q=GNV-B00&limit={GRID_PAGE}", page),
            ("grid.csv (all)", "/api/v1/dashboard/grid.csv", bare)):
        if path.endswith("after="):
            cursor = client.get(grid).json["next"]
            if cursor is None:
                print(f"{name:<16} (one page holds every participant)")
                continue
            path += cursor
        first, times, cpu, server, size = timed(client, path, args.repeat, clock)
        median = statistics.median(times)
        print(f"{name:<16} first {first:5.0f} ms  then median {median:5.0f} ms"
              f"  min {min(times):5.0f} ms  max {max(times):5.0f} ms"
              f"  {cpu_text(cpu, server)}  {size / 1024:6.1f} KiB"
              f"  floor {base:5.1f} ms  ratio floor/median {base / median:.2f}  {load()}")
    # The landing page (overview) and the Participants page's first screen, interleaved.
    overview = "/api/v1/dashboard/overview"
    for name, paths in (("first screen", [overview, grid]),):
        times, cpu, server, size = first_screen(client, paths, args.repeat, clock)
        print(f"{name:<16} overview + grid 1st page, median {statistics.median(times):5.0f} ms"
              f"  min {min(times):5.0f} ms  max {max(times):5.0f} ms"
              f"  {cpu_text(cpu, server)}  {size / 1024:6.1f} KiB"
              f"  floor {bare + page:5.1f} ms (both floors)  {load()}")
    engine.dispose()


if __name__ == "__main__":
    main()
