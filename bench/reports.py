"""How long the study-wide reports take for a large study (default 10,000 participants).

Builds the same scratch study as bench/dashboard.py (its bulk rows: enrolments over 14 months,
infusions, every planned assessment answered on time, late or never), then adds a scored
response per instrument of every completed assessment, as `submit` would store it (scores from
the real scoring engine on example answers, a pool per instrument) and its `response_score`
rows (pro_server.responses.score_table's rule). Signs in as a user of both
sites and calls the report endpoints through the app, printing each timing beside a floor timed
in the same run: the bare SELECT of the columns the reports read (every assessment row's
site, code, window and facts; every current response's assessment and scores). Nothing is
asserted; the scratch folder is removed. Each call's wall time and this process's CPU time are
printed (with SQLite the database's work is in that CPU time; with PostgreSQL the server's is
not): on a shared, loaded machine CPU time moves less than the wall clock.

    .venv/bin/python bench/reports.py [--participants 10000] [--repeat 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Engine, func, insert, select, text

# Run as a script from a checkout: the repository root holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dashboard import NOW, add_participants, analyze, bench_app, load
from pro_server.context import Actor, ServiceContext
from pro_server.demo import load_demo
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.instruments.scoring.engine import score
from pro_server.participants.models import Participant
from pro_server.responses.models import Response, ResponseScore
from pro_server.responses.score_table import score_rows
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Site, Study


def scored_pool(instrument: str, rng: random.Random, size: int = 16) -> list[tuple[dict, dict]]:
    """`size` (stamped answers, scores) pairs scored by the real engine."""
    definition = default_registry().get(instrument)
    pool = []
    for _ in range(size):
        answers = example_answers(definition, rng, rng.uniform(0.2, 0.8))
        stamped = {k: {"value": v, "answered_at": NOW.isoformat()} for k, v in answers.items()}
        result = score(definition, answers)
        pool.append((stamped, {"scores": result.as_dict(), "algorithm": result.algorithm,
                               "algorithm_version": result.algorithm_version,
                               "instrument_version": definition.version}))
    return pool


def add_responses(ctx: ServiceContext) -> int:
    rng = random.Random(16)
    pools: dict[str, list] = {}
    rows: list[dict] = []
    scores: list[dict] = []
    done = ctx.session.execute(select(
        Assessment.id, Assessment.participant_id, Assessment.study_id, Assessment.site_id,
        Assessment.code, Assessment.instruments, Assessment.started_at, Assessment.completed_at,
    ).where(Assessment.completed_at.is_not(None))).all()
    next_id = (ctx.session.scalar(select(func.max(Response.id))) or 0) + 1

    def flush() -> None:
        ctx.session.execute(insert(Response), rows)
        ctx.session.execute(insert(ResponseScore), scores)
        rows.clear()
        scores.clear()

    for n, a in enumerate(done):
        for instrument in a.instruments:
            if instrument not in pools:
                pools[instrument] = scored_pool(instrument, rng)
            answers, s = rng.choice(pools[instrument])
            row = {
                "id": next_id, "assessment_id": a.id, "participant_id": a.participant_id,
                "study_id": a.study_id, "site_id": a.site_id, "instrument_code": instrument,
                "instrument_version": s["instrument_version"], "language": "en", "version": 1,
                "is_current": True, "answers": answers, "scores": s["scores"],
                "algorithm": s["algorithm"], "algorithm_version": s["algorithm_version"],
                "started_at": a.started_at or a.completed_at - timedelta(minutes=10),
                "submitted_at": a.completed_at, "recorded_at": a.completed_at,
                "recorded_by": "bench", "audit_seq": n}
            rows.append(row)
            scores.extend(score_rows(SimpleNamespace(**row), a.code))  # type: ignore[arg-type]
            next_id += 1
        if len(rows) > 5000:
            flush()
    if rows:
        flush()
    if ctx.session.get_bind().dialect.name == "postgresql":  # ids given here, not by it
        ctx.session.execute(text(
            "SELECT setval(pg_get_serial_sequence('response', 'id'), max(id)) FROM response"))
    return ctx.session.scalar(select(func.count()).select_from(Response)) or 0


def timed(client, url: str, repeat: int) -> tuple[float, list[float], list[float], int]:  # type: ignore[no-untyped-def]
    """The first call, then `repeat` more: first ms, then each call's wall ms and CPU ms
    (this process's), and the bytes of the answer."""
    start = time.perf_counter()
    client.get(url)
    first = (time.perf_counter() - start) * 1000
    times, cpu, size = [], [], 0
    for _ in range(repeat):
        start, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        size = len(response.data)
    return first, times, cpu, size


def floor(engine: Engine, repeat: int) -> float:
    """Median ms to fetch, bare, the columns the two reports read."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT site_id, code, window_end, started_at, completed_at, cancelled_at "
                "FROM assessment").fetchall()
            conn.exec_driver_sql(
                "SELECT assessment_id, instrument_code, scores FROM response "
                "WHERE is_current").fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default="",
                        help="an empty database to use instead of a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as workdir:
        bench(args, Path(workdir))
    print(f"scratch folder {workdir} removed: {not Path(workdir).exists()}")


def bench(args: argparse.Namespace, workdir: Path) -> None:
    app = bench_app(args.database_url, workdir)
    pro = app.extensions["pro"]
    engine = pro["engine"]
    ctx = ServiceContext.of_app(pro, Actor.system("bench"))
    email = "investigator@example.org"  # both sites: the whole study
    started = time.perf_counter()
    passwords = {c.email: c.password for c in load_demo(ctx)}
    study = ctx.session.scalar(select(Study))
    sites = list(ctx.session.scalars(select(Site).order_by(Site.code)))
    assessments = add_participants(ctx, study, sites, args.participants - 12)
    responses = add_responses(ctx)
    ctx.session.commit()
    people = ctx.session.scalar(select(Participant.id).order_by(Participant.id.desc()).limit(1))
    ctx.session.close()
    print(f"built {people} participants, {assessments} assessment rows, {responses} responses "
          f"on {engine.dialect.name} in {time.perf_counter() - started:.1f} s; calls as "
          f"{email}, {args.repeat} after the first")
    analyze(engine)
    bare = floor(engine, args.repeat)
    print(f"floor: bare SELECT of the columns the reports read, median {bare:.0f} ms")
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    signed = client.post("/api/v1/auth/login", headers={"X-CSRFToken": token},
                         json={"email": email, "password": passwords[email]})
    assert signed.status_code == 200, signed.json
    for name, path in (("completion", "/api/v1/dashboard/reports/completion"),
                       ("completion.csv", "/api/v1/dashboard/reports/completion.csv"),
                       ("scores", "/api/v1/dashboard/reports/scores"),
                       ("scores.csv", "/api/v1/dashboard/reports/scores.csv")):
        first, times, cpu, size = timed(client, path, args.repeat)
        median = statistics.median(times)
        print(f"{name:<15} first {first:5.0f} ms  then median {median:5.0f} ms"
              f"  min {min(times):5.0f} ms  max {max(times):5.0f} ms"
              f"  CPU median {statistics.median(cpu):5.0f} ms  {size / 1024:5.0f} KiB"
              f"  floor {bare:4.0f} ms  {load()}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
