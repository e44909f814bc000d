"""Benchmark: the participant flow under load on PostgreSQL, beside a bare-INSERT floor.

Both apps run under gunicorn with the project's settings (deploy/gunicorn.conf.py: gthread,
4 threads) at each worker count asked for (default 2, 4 and 8): the project (`wsgi:app`) and
the floor (bench/floor_app.py: one INSERT of the request's JSON body per request). In
interleaved rounds (project, floor, project, floor, ...) `--clients` threads each run
`--flows` participant flows: GET the CSRF token, open the session with a link's token, save
each of the 5 instruments of the baseline as a draft (PATCH), submit (after one warm-up
flow per client, not counted). The floor gets the
same 8 requests with the same JSON bodies. Printed per round and as the median of the
rounds: requests/s, latency p50/p95/p99, and the ratio project/floor; and the CPU each
request cost the gunicorn workers, the database's backends and the client threads (read from
/proc), with the cores all three kept busy: on a machine whose cores are all busy, the ratio
is about the floor's CPU per request over the project's. The audit sealer runs
beside the project as the scheduler would (every 5 s); at the end the chain is verified.

A scratch database is created next to --database-url (participants enrolled and links
issued through the project's services, then ANALYZE, and ANALYZE again after each warm-up:
`analyze`) and dropped at the end. Each flow has a participant of its own (a submission
closes the baseline).

Run: `.venv/bin/python bench/participant_load.py [--workers 2,4,8] [--rounds 3]
[--clients 32] [--flows 10] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dispatch_soak import DEFAULT_DATABASE_URL, drop_database, scratch_database
from pro_server import create_app
from pro_server.audit.sealing import seal, tail
from pro_server.config import load_settings
from pro_server.context import Actor, ServiceContext
from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.participants import services as participants
from pro_server.participants.links import issue_link
from pro_server.participants.models import ParticipantStatus
from pro_server.schedule.models import Assessment
from pro_server.studies.services import create_site, create_study

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_KEY = "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E="  # a scratch database's key
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "deploy" / "gunicorn.conf.py")]
SEAL_EVERY = 5.0  # seconds, as the scheduler's audit-seal job


@dataclass
class Flow:
    token: str
    assessment_id: int
    answers: dict[str, dict[str, Any]]


@dataclass
class Round:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by part, this round

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    def cpu_ms(self, part: str) -> float:
        """CPU ms per request spent by one part: the server, the database or the clients."""
        return self.cpu[part] * 1000 / self.requests


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far, with its children it has
    waited for: a gunicorn worker recycled during a round is counted in its master's.
    Gone processes are left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = sum(int(f) for f in fields[11:15]) / TICKS
    return used


def server_pids(master: int) -> set[int]:
    """gunicorn's master and its workers."""
    pids = {master}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.add(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def database_pids(engine: Any) -> set[int]:
    """The PostgreSQL backends serving the scratch database (this machine's server)."""
    with engine.connect() as conn:
        return set(conn.scalars(text("SELECT pid FROM pg_stat_activity "
                                     "WHERE datname = current_database()")))


def environment(database_url: str, instance: str) -> dict[str, str]:
    """Production settings (system clock, no dev secrets) but plain http on loopback."""
    return {**os.environ, "DATABASE_URL": database_url, "PRO_INSTANCE_PATH": instance,
            "PRO_ENV": "production", "PUBLIC_BASE_URL": "http://127.0.0.1",
            "PHONE_LOOKUP_KEY": "bench-lookup-" + "l" * 40,
            "SECRET_KEY": "bench-" + "k" * 40, "PRO_DATA_KEYS": DATA_KEY,
            "SMS_BACKEND": "none", "LOG_LEVEL": "WARNING", "FLOOR_DATABASE_URL": database_url}


def load(env: dict[str, str], people: int) -> list[Flow]:
    """A study and `people` participants enrolled today, each with a link's token and
    complete answers to their (open) baseline."""
    app = create_app(load_settings(env))
    pro = app.extensions["pro"]
    from pro_server.migrate import upgrade

    upgrade(pro["engine"])
    rng = random.Random(20)
    flows = []
    with pro["session_factory"]() as session:
        ctx = ServiceContext.of_app(pro, Actor.system("bench"), session=session)
        study = create_study(ctx, code="LOAD", name="Load", registry_id=None,
                             default_timezone="America/New_York", program_name="Check-in",
                             protocol_code="RES001-DMPM-02")
        site = create_site(ctx, study, code="S1", name="Site 1", timezone="America/New_York")
        session.commit()
        for n in range(people):
            p = participants.enrol(ctx, study, site, {
                "subject_key": f"LOAD-{n:05d}", "status": ParticipantStatus.enrolled,
                # Contact data as in production (stored encrypted).
                "language": "en", "timezone": "America/New_York",
                "phone": f"+1352555{n % 10000:04d}", "email": f"load{n}@example.org",
                "sms_consent": None, "reminder_time": None,
                "enrolled_on": None})
            token = issue_link(ctx, p).split("#", 1)[1]
            a = session.scalar(select(Assessment).where(Assessment.participant_id == p.id,
                                                        Assessment.code == "BASELINE"))
            answers = {code: example_answers(default_registry().get(code), rng)
                       for code in a.instruments}
            flows.append(Flow(token, a.id, answers))
            if n % 100 == 99:
                session.commit()
        session.commit()
        seal(session, pro["events"])
    pro["engine"].dispose()
    return flows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str, workers: int, env: dict[str, str], chdir: Path) -> tuple[subprocess.Popen,
                                                                          str]:
    port = free_port()
    # gunicorn's errors go to a file in the scratch instance folder; its access log (on
    # stdout) is dropped.
    log = open(Path(env["PRO_INSTANCE_PATH"]) / f"gunicorn-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*GUNICORN, "--chdir", str(chdir), app],
        env={**env, "PRO_BIND": f"127.0.0.1:{port}", "PRO_WEB_WORKERS": str(workers)},
        stdout=subprocess.DEVNULL, stderr=log)
    return process, f"http://127.0.0.1:{port}"


def wait_ready(base: str, path: str, method: str = "GET") -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            for _ in range(40):  # every worker booted and warm
                requests.request(method, base + path, json={}, timeout=60)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def project_flow(s: requests.Session, base: str, f: Flow, note: Callable) -> None:
    api = f"{base}/api/v1/p"
    csrf = note(s.get(f"{base}/api/v1/auth/csrf"), 200).json()["csrf_token"]
    csrf = note(s.post(f"{api}/session", json={"token": f.token},
                       headers={"X-CSRFToken": csrf}), 200).json()["csrf_token"]
    headers = {"X-CSRFToken": csrf}
    for code, answers in f.answers.items():
        note(s.patch(f"{api}/assessments/{f.assessment_id}/draft", headers=headers,
                     json={"instrument": code, "answers": answers, "language": "en"}), 200)
    note(s.post(f"{api}/assessments/{f.assessment_id}/submission", headers=headers,
                json={"idempotency_key": uuid.uuid4().hex, "answers": f.answers,
                      "language": "en"}), 201)


def floor_flow(s: requests.Session, base: str, f: Flow, note: Callable) -> None:
    bodies = [{}, {"token": f.token}]
    bodies += [{"instrument": code, "answers": answers, "language": "en"}
               for code, answers in f.answers.items()]
    bodies.append({"idempotency_key": uuid.uuid4().hex, "answers": f.answers,
                   "language": "en"})
    for body in bodies:
        note(s.post(f"{base}/floor", json=body), 200)


def measured(flow: Callable, base: str, flows: list[Flow], clients: int, master: int,
             engine: Any) -> Round:
    """`drive`, with the CPU the server, the database and the clients used meanwhile (read
    from /proc: the clients are this process, which also runs the audit sealer)."""
    server, database = server_pids(master), database_pids(engine)
    before = cpu_of(server), cpu_of(database), time.process_time()
    result = drive(flow, base, flows, clients)
    server |= server_pids(master)
    database |= database_pids(engine)
    after = cpu_of(server), cpu_of(database), time.process_time()
    for part, then, now in zip(("server", "database"), before, after, strict=False):
        result.cpu[part] = sum(used - then.get(pid, 0.0) for pid, used in now.items())
    result.cpu["clients"] = after[2] - before[2]
    return result


def drive(flow: Callable, base: str, flows: list[Flow], clients: int) -> Round:
    result, lock = Round(), threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(mine: list[Flow]) -> None:
        s, sent = requests.Session(), [0.0]

        def note(response: requests.Response, expected: int) -> requests.Response:
            """Times the request just answered (from when the previous one was noted)."""
            now = time.perf_counter()
            with lock:
                result.latencies.append(now - sent[0])
                result.requests += 1
                if response.status_code != expected:
                    result.errors[response.status_code] += 1
            sent[0] = time.perf_counter()
            return response

        start.wait()
        for f in mine:
            sent[0] = time.perf_counter()
            try:
                flow(s, base, f, note)
            except (requests.RequestException, ValueError, KeyError) as exc:
                with lock:
                    result.errors[type(exc).__name__] += 1

    threads = [threading.Thread(target=client, args=(flows[n::clients],))
               for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def sealer(env: dict[str, str], stop: threading.Event, sealed: list[int]) -> None:
    """The scheduler's audit-seal job, as the project's own app runs it."""
    pro = create_app(load_settings(env)).extensions["pro"]
    with pro["session_factory"]() as session:
        while not stop.wait(SEAL_EVERY):
            sealed.append(seal(session, pro["events"]))
        sealed.append(seal(session, pro["events"]))
    pro["engine"].dispose()


def analyze(engine: Any) -> None:
    """Statistics for the tables as they are now, as autovacuum keeps them in production.

    Run again after the warm-up: the tables a flow writes (responses, their scores and
    export texts, drafts) are empty when the participants are loaded. Planned as empty,
    PostgreSQL checks each foreign key to `response` by scanning the whole (growing) table
    until autovacuum analyzes it, a minute or so into the run (seen: 1.1 ms more of the
    database's CPU per submission, and the first worker count's rounds the slowest)."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def line(label: str, r: Round) -> str:
    errors = f"  errors {dict(r.errors)}" if r.errors else ""
    cpu = "/".join(f"{r.cpu_ms(part):.2f}" for part in ("server", "database", "clients"))
    return (f"  {label:<8} {r.requests:6d} req in {r.seconds:6.2f} s  {r.rate:7.1f} req/s  "
            f"p50 {r.percentile(50):6.1f} ms  p95 {r.percentile(95):6.1f} ms  "
            f"p99 {r.percentile(99):6.1f} ms  CPU ms/req {cpu}{errors}")


def median_of(rounds: list[Round], metric: Callable[[Round], float]) -> float:
    return statistics.median(metric(r) for r in rounds)


def bench(args: argparse.Namespace, url: str, instance: str) -> None:
    env = environment(url, instance)
    per_round = args.clients * args.flows
    t = time.perf_counter()
    # A warm-up round (one flow per client, not counted) per worker count, then the rounds.
    flows = load(env, (per_round * args.rounds + args.clients) * len(args.workers))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE floor_row (id BIGSERIAL PRIMARY KEY, payload TEXT "
                          "NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"))
    analyze(engine)
    print(f"loaded {len(flows)} participants with an open baseline in "
          f"{time.perf_counter() - t:.0f} s; {os.cpu_count()} CPUs; {args.clients} clients x "
          f"{args.flows} flows x 8 requests per round; gunicorn gthread x 4 threads")
    summary = []
    for workers in args.workers:
        print(f"\n-- {workers} workers")
        project, project_url = serve("wsgi:app", workers, env, REPO_ROOT)
        floor, floor_url = serve("floor_app:app", workers, env, REPO_ROOT / "bench")
        stop, sealed = threading.Event(), []
        seal_thread = threading.Thread(target=sealer, args=(env, stop, sealed))
        try:
            wait_ready(project_url, "/api/v1/auth/csrf")
            wait_ready(floor_url, "/floor", "POST")
            seal_thread.start()
            for flow, url_, kind in ((project_flow, project_url, "project"),
                                     (floor_flow, floor_url, "floor")):
                warm = drive(flow, url_, flows[:args.clients], args.clients)
                if warm.errors:
                    print(f"  warm-up of the {kind}: errors {dict(warm.errors)}")
            flows = flows[args.clients:]
            analyze(engine)
            rounds: dict[str, list[Round]] = {"project": [], "floor": []}
            for n in range(args.rounds):
                mine = flows[:per_round]
                flows = flows[per_round:]
                rounds["project"].append(measured(project_flow, project_url, mine,
                                                  args.clients, project.pid, engine))
                print(line("project", rounds["project"][-1]) + f"   (round {n + 1})")
                rounds["floor"].append(measured(floor_flow, floor_url, mine, args.clients,
                                                floor.pid, engine))
                print(line("floor", rounds["floor"][-1]) + f"   (round {n + 1})")
        finally:
            stop.set()
            if seal_thread.is_alive():
                seal_thread.join()
            for process in (project, floor):
                process.terminate()
                process.wait(30)
        medians = {k: (median_of(v, lambda r: r.rate), median_of(v, lambda r: r.percentile(50)),
                       median_of(v, lambda r: r.percentile(95)),
                       median_of(v, lambda r: r.percentile(99))) for k, v in rounds.items()}
        ratio = medians["project"][0] / medians["floor"][0]
        summary.append((workers, medians, ratio, rounds))
        print(f"  audit events sealed beside the project: {sum(sealed)}")
    print("\nmedians of the rounds (req/s, p50/p95/p99 ms):")
    print(f"  {'workers':>7}  {'project':>32}  {'floor':>32}  ratio")
    for workers, m, ratio, _rounds in summary:
        cells = ["{:7.1f} {:6.1f}/{:6.1f}/{:6.1f}".format(*m[k]) for k in ("project", "floor")]
        print(f"  {workers:7d}  {cells[0]:>32}  {cells[1]:>32}  {ratio:5.2f}")
    print("\nCPU ms per request, medians of the rounds (server / database / clients), and the "
          "cores busy (all three parts' CPU over the round's seconds):")
    print(f"  {'workers':>7}  {'project':>30}  {'floor':>30}")
    for workers, _m, _ratio, rounds in summary:
        cells = []
        for kind in ("project", "floor"):
            parts = [statistics.median(r.cpu_ms(part) for r in rounds[kind])
                     for part in ("server", "database", "clients")]
            busy = median_of(rounds[kind], lambda r: sum(r.cpu.values()) / r.seconds)
            cells.append("{:5.2f} / {:5.2f} / {:5.2f}  {:4.2f}".format(*parts, busy))
        print(f"  {workers:7d}  {cells[0]:>30}  {cells[1]:>30}")
    pro = create_app(load_settings(env)).extensions["pro"]
    with pro["session_factory"]() as session:
        seal(session, pro["events"])
        print(f"\naudit chain after the run: {tail(session).describe(datetime.now(UTC))}")
    pro["engine"].dispose()
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "pro", "audit",
                            "verify"], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    print(check.stdout.strip() or check.stderr.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2,4,8",
                        type=lambda v: [int(w) for w in v.split(",")])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--flows", type=int, default=10,
                        help="flows per client per round (10: about 10 s for the project)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    url = scratch_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="participant-load-") as instance:
            bench(args, url, instance)
    finally:
        drop_database(args.database_url, url)


if __name__ == "__main__":
    main()
