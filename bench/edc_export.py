"""Benchmark: every EDC export of a study with >= 50,000 responses, with flat memory.

Builds a scratch database (SQLite in a temporary folder, or --database-url for PostgreSQL),
bulk-loads two studies of the same shape, a small one and a large one (participants, their
assessments and response versions with answers drawn at random for each and scored, 1 %
corrected, with what the app stores beside each version: its `response_score` rows and its
export texts, `response_export`), then runs every export through the same generators the web
routes stream and prints, per export and study: bytes, records, seconds, throughput and peak
memory (resident high-water mark of a fresh process per export, its registries loaded first as
a running server has them). Similar peaks for the small and the large study show that memory
does not grow with the study. After loading it runs ANALYZE (production has autovacuum), and
beside each export it prints the floor timed in the same run: on PostgreSQL `COPY (SELECT *
FROM response WHERE study_id = ...) TO STDOUT` of the same rows, on SQLite a bare SELECT of
them fetched through the driver. On PostgreSQL running on this machine it also prints the
database server process's CPU seconds, for COPY and for each export (wall-clock seconds on a
loaded machine are mostly waiting). Run: `.venv/bin/python bench/edc_export.py [--participants
1000] [--database-url URL] [--only "records,ODM clinical,QS XPT"]` (`--only`: exports whose
name contains one of the comma-separated texts). Load and CPU of the machine are printed first:
the ratios hold for one run on one machine, under whatever else it was doing ('load': the
1-minute load average after each export).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pro_server.clock import FixedClock
from pro_server.config import Settings
from pro_server.context import Actor, ServiceContext
from pro_server.db import make_engine, make_session_factory
from pro_server.edc.catalogue import study_events
from pro_server.edc.exports import Export
from pro_server.events import EventBus
from pro_server.instruments import default_registry, score
from pro_server.migrate import upgrade
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.protocol.definitions import default_registry as protocols
from pro_server.responses.export_text import export_row
from pro_server.responses.models import Response, ResponseExport, ResponseScore
from pro_server.responses.score_table import score_rows
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Study
from pro_server.studies.services import create_site, create_study

PROTOCOL = "RES001-DMPM-02"
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
BATCH = 5000
ZONE = "America/New_York"  # of every site, participant and assessment


def answered(d: Any, rng: random.Random) -> tuple[dict, dict]:
    """A complete random answer set of instrument `d` and its scores: drawn for each response,
    as participants answer, so an export cannot gain from responses repeating each other."""
    answers: dict[str, Any] = {}
    for item in d.items:
        if item.enable_when and item.enable_when.contains not in answers.get(
                item.enable_when.item, []):
            continue
        if item.type == "multi_choice":
            answers[item.id] = rng.sample(list(item.option_codes), rng.randint(0, 2))
        elif item.type == "single_choice":
            answers[item.id] = rng.choice(item.option_codes)
        else:
            answers[item.id] = rng.randint(item.min, item.max)
    return answers, score(d, answers).as_dict()


def load_study(factory: Callable[[], Any], clock: FixedClock, settings: Settings, code: str,
               participants: int, rng: random.Random, seq: list[int]) -> int:
    """One study, bulk-inserted; returns how many response versions it holds."""
    with factory() as session:
        # Bulk-loaded below, past the features: no app, so a bus nobody subscribes to.
        ctx = ServiceContext(session, clock, Actor.system("bench"), settings, EventBus())
        study = create_study(ctx, code=code, name="Benchmark study", registry_id=None,
                             default_timezone=ZONE, program_name="Check-in",
                             protocol_code=PROTOCOL)
        sites = [create_site(ctx, study, code=c, name=f"Site {c}", timezone=ZONE)
                 for c in ("S1", "S2", "S3")]
        session.commit()
        study_id, site_ids = study.id, [s.id for s in sites]
    events = study_events(protocols(), PROTOCOL)
    definitions = {d.code: d for d in default_registry().all()}
    start = NOW - timedelta(days=500)
    with factory() as session:
        session.execute(insert(Participant), [{
            "study_id": study_id, "site_id": site_ids[n % 3], "subject_key": f"{code}-{n:05d}",
            "status": ParticipantStatus.enrolled, "language": "es" if n % 4 == 0 else "en",
            "timezone": ZONE, "sms_consent": False, "reminder_time": "10:00",
            "enrolled_on": start.date(), "protocol_version": "2", "created_at": start,
            "updated_at": start} for n in range(participants)])
        people = session.execute(select(Participant.id, Participant.site_id)
                                 .where(Participant.study_id == study_id)).all()
        assessments = []
        for pid, site_id in people:
            for e in events:
                opens = start + timedelta(days=e.visitnum % 100 + 30 * (e.visitnum // 100))
                done = opens + timedelta(hours=rng.randint(1, 130))
                assessments.append({
                    "participant_id": pid, "study_id": study_id, "site_id": site_id,
                    "code": e.code, "sequence": e.order, "anchor": "bench",
                    "protocol_version": "2", "instruments": list(e.instruments),
                    "timezone": ZONE, "first_day": opens.date(),
                    "last_day": (opens + timedelta(days=4)).date(), "window_start": opens,
                    "window_end": opens + timedelta(days=5), "window_version": 1,
                    "recorded_status": "completed", "started_at": done, "completed_at": done,
                    "created_at": start, "updated_at": done})
        for chunk in _chunks(assessments, BATCH):
            session.execute(insert(Assessment), chunk)
        rows = session.execute(select(Assessment.id, Assessment.participant_id,
                                      Assessment.site_id, Assessment.instruments,
                                      Assessment.completed_at, Assessment.code)
                               .where(Assessment.study_id == study_id)
                               .order_by(Assessment.id)).all()
        responses = []
        next_id = (session.scalar(select(Response.id).order_by(Response.id.desc()).limit(1))
                   or 0) + 1
        stored = []
        for aid, pid, site_id, instruments, done, event in rows:
            for code_ in instruments:
                answers, scores = answered(definitions[code_], rng)
                seq[0] += 1
                base = {"assessment_id": aid, "participant_id": pid, "study_id": study_id,
                        "site_id": site_id, "instrument_code": code_,
                        "instrument_version": scores["instrument_version"],
                        "language": "en", "algorithm": scores["algorithm"],
                        "algorithm_version": scores["algorithm_version"], "started_at": done,
                        "submitted_at": done, "recorded_at": done, "recorded_by": "participant",
                        "change_reason": None, "change_source": None}
                stamped = {k: {"value": v, "answered_at": done.isoformat()}
                           for k, v in answers.items()}
                corrected = rng.random() < 0.01
                responses.append({**base, "id": next_id, "version": 1, "replaces_id": None,
                                  "is_current": not corrected, "answers": stamped,
                                  "scores": scores, "audit_seq": seq[0]})
                next_id += 1
                if corrected:  # the same answers: the texts of version 1, nothing removed
                    seq[0] += 1
                    responses.append({**base, "id": next_id, "version": 2,
                                      "replaces_id": next_id - 1, "is_current": True,
                                      "answers": stamped, "scores": scores,
                                      "audit_seq": seq[0], "recorded_by": "investigator",
                                      "change_reason": "bench correction",
                                      "recorded_at": done + timedelta(days=3)})
                    next_id += 1
                versions = responses[-1 - corrected:]  # the same answers: nothing removed
                stored.append((event, [export_row(Response(**v), zone=ZONE) for v in versions],
                               versions))
        for chunk in _chunks(responses, BATCH):
            session.execute(insert(Response), chunk)
        # What the app stores with each version (responses.services._store_versions): its
        # scores as numbers for the current one, and its export texts.
        scores_rows = [row for event, _, versions in stored
                       for row in score_rows(Response(**versions[-1]), event)]
        for chunk in _chunks(scores_rows, BATCH):
            session.execute(insert(ResponseScore), chunk)
        export_rows = [texts for _, rows_, _ in stored for texts in rows_]
        for chunk in _chunks(export_rows, BATCH):
            session.execute(insert(ResponseExport), chunk)
        session.commit()
    return len(responses)


def _chunks(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for n in range(0, len(rows), size):
        yield rows[n:n + size]


def _pages(export: Export) -> Iterable[bytes]:
    """Pages of 1000 as the records route serves them (one JSON text per record)."""
    after, more = 0, True
    while more:
        page, after, more = export.page_json(after, 1000)
        yield from page


RUNS: dict[str, Callable[[Export], Iterable[bytes]]] = {
    "records API (pages of 1000)": _pages,
    "ODM metadata": lambda e: [e.odm_metadata()],
    "ODM clinical (transactional)": lambda e: e.odm_clinical(0, 10**12, snapshot=False),
    "ODM clinical (snapshot)": lambda e: e.odm_clinical(0, 10**12, snapshot=True),
    "REDCap records CSV": lambda e: e.redcap_records(),
    "REDCap data dictionary": lambda e: e.redcap_dictionary(),
    "SDTM QS CSV": lambda e: e.sdtm_csv("qs"),
    "SDTM QS XPT": lambda e: e.sdtm_xpt("qs"),
    "SDTM EX XPT": lambda e: e.sdtm_xpt("ex"),
    "SDTM DS XPT": lambda e: e.sdtm_xpt("ds"),
    "participation JSON": lambda e: e.participation_json(),
    "FHIR _history bundle": lambda e: e.fhir_history(
        "https://pro.example.org/fhir", 0, 10**12, None),
    "adherence CSV": lambda e: e.adherence_csv(timedelta(hours=12)),
}


def _memory_kb(field: str) -> int:
    """VmRSS / VmHWM of this process (Linux); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    """Restart the high-water mark (Linux >= 4.0), so the peak is the export's own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def backend_pid(conn: Any) -> int | None:
    """The PostgreSQL server process of a connection (None on SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())


def server_cpu(pid: int | None) -> float | None:
    """CPU seconds the database server process has used, when it runs on this machine (a
    loaded machine makes wall-clock seconds mostly waiting: this is the work itself)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def run_one(url: str, code: str, name: str) -> None:
    """One export in this (fresh) process: prints bytes, seconds and memory as JSON."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        study = session.scalar(select(Study).where(Study.code == code))
        export = Export(session, study, NOW)
        # What a running server has loaded once per process, before any export: the
        # instrument and protocol registries (reading and validating their YAML takes about
        # 0.4 s) and the study's catalogue. Left in, every export would be timed as a
        # worker's first request.
        default_registry()
        protocols()
        export.catalogue  # noqa: B018 - built and cached on first use
        pid = backend_pid(session.connection())
        before = _memory_kb("VmRSS")
        _reset_peak()
        began, cpu, db_cpu = time.perf_counter(), time.process_time(), server_cpu(pid)
        size = sum(len(chunk) for chunk in RUNS[name](export))
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        db_cpu = _spent(db_cpu, server_cpu(pid))
        peak = _memory_kb("VmHWM")
    print(json.dumps({"bytes": size, "seconds": seconds, "cpu_seconds": cpu,
                      "db_cpu_seconds": db_cpu, "rss_before_kb": before, "rss_peak_kb": peak}))


def floor_seconds(url: str, code: str) -> tuple[float, float | None]:
    """Seconds to read the study's response rows bare: COPY on PostgreSQL, SELECT on SQLite;
    and the database server's CPU seconds for it (PostgreSQL on this machine)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            study_id = conn.scalar(select(Study.id).where(Study.code == code))
            query = f"SELECT * FROM response WHERE study_id = {int(study_id)}"  # noqa: S608
            pid = backend_pid(conn)
            db_cpu = server_cpu(pid)
            began = time.perf_counter()
            if engine.dialect.name == "postgresql":
                raw = conn.connection.dbapi_connection
                with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                    for _block in copy:
                        pass
            else:
                for _row in conn.exec_driver_sql(query):
                    pass
            return time.perf_counter() - began, _spent(db_cpu, server_cpu(pid))
    finally:
        engine.dispose()


def _cpu_text(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


def analyze(url: str) -> None:
    """Planner statistics, as autovacuum keeps them in production."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def measure(url: str, code: str, name: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run-one", name, "--study", code,
               "--database-url", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=1000,
                        help="participants of the large study (59 responses each); the small "
                             "one has a third (3000: ~60k and ~180k responses)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--only", default="",
                        help="run only the exports whose name contains one of these "
                             "comma-separated texts")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the studies an earlier run loaded into --database-url "
                             "(PostgreSQL) instead of loading them again")
    parser.add_argument("--studies", default="BENCH-S,BENCH-L",
                        help="the studies to measure, comma-separated")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--study", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args.database_url, args.study, args.run_one)
        return
    with tempfile.TemporaryDirectory(prefix="edc-bench-") as tmp:  # the scratch SQLite file
        bench(args, tmp)


def bench(args: argparse.Namespace, tmp: str) -> None:
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          f"(1 min) at the start", flush=True)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    settings = Settings(env="test", database_url=url, secret_key=secrets.token_hex(16),
                        instance_path=Path(tmp))
    clock = FixedClock(NOW)
    rng = random.Random(2026)
    seq = [10**6]
    sizes = {"BENCH-S": max(args.participants // 3, 1), "BENCH-L": args.participants}
    counts = {}
    for code, n in sizes.items():
        if args.reuse:
            with factory() as session:
                counts[code] = session.scalar(
                    select(func.count()).select_from(Response).join(
                        Study, Study.id == Response.study_id).where(Study.code == code)) or 0
            print(f"reused {code}: {counts[code]:,} response versions", flush=True)
            continue
        began = time.perf_counter()
        counts[code] = load_study(factory, clock, settings, code, n, rng, seq)
        print(f"loaded {code}: {n} participants, {counts[code]:,} response versions "
              f"in {time.perf_counter() - began:.1f} s ({url.split(':')[0]})", flush=True)
    engine.dispose()
    analyze(url)
    sizes = {code: n for code, n in sizes.items() if code in args.studies.split(",")}
    measured = {code: floor_seconds(url, code) for code in sizes}
    floors = {code: seconds for code, (seconds, _) in measured.items()}
    bare = "COPY TO STDOUT" if url.startswith("postgresql") else "bare SELECT"
    for code, (seconds, db_cpu) in measured.items():
        server = "" if db_cpu is None else f", database server CPU {db_cpu:.2f} s"
        print(f"floor {code}: {bare} of its {counts[code]:,} response rows in {seconds:.2f} s "
              f"({counts[code] / seconds:,.0f} rows/s{server})")
    print("\nEach export runs in a fresh process: 'RSS start' after imports and set-up, "
          "'RSS peak' the resident high-water mark during the export (VmHWM); 'floor' the "
          "floor's rows/s, 'ratio' the export's rows/s over it.")
    print("'CPU s' is the export process's own CPU time: on a busy machine the wall-clock "
          "seconds are mostly waiting for a CPU; 'resp/s CPU' is responses per CPU second; "
          "'DB CPU' the database server process's CPU time for the export (PostgreSQL on "
          "this machine).")
    print(f"\n{'export':36} {'responses':>9} {'MB out':>8} {'s':>7} {'MB/s':>6} "
          f"{'resp/s':>8} {'floor':>8} {'ratio':>6} {'CPU s':>6} {'resp/s CPU':>10} "
          f"{'DB CPU':>6} {'RSS start':>9} {'RSS peak':>9} {'load':>5}")
    wanted = [part.strip() for part in args.only.split(",")]
    for name in (n for n in RUNS if any(part in n for part in wanted)):
        for code in sizes:
            r = measure(url, code, name)
            rate, floor_rate = counts[code] / r["seconds"], counts[code] / floors[code]
            print(f"{name:36} {counts[code]:9,} {r['bytes'] / 1e6:8.1f} {r['seconds']:7.2f} "
                  f"{r['bytes'] / 1e6 / r['seconds']:6.1f} {rate:8,.0f} {floor_rate:8,.0f} "
                  f"{rate / floor_rate:6.3f} {r['cpu_seconds']:6.1f} "
                  f"{counts[code] / r['cpu_seconds']:10,.0f} "
                  f"{_cpu_text(r.get('db_cpu_seconds')):>6} "
                  f"{r['rss_before_kb'] / 1024:7.0f}MB {r['rss_peak_kb'] / 1024:7.0f}MB "
                  f"{os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
