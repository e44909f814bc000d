"""Benchmark: CPU per participant flow inside one Flask process, beside a bare-INSERT floor.

Where bench/participant_load.py measures throughput under gunicorn, this measures what one
flow (GET the CSRF token, open the session with a link's token, 5 draft PATCH, submit:
the same 8 requests) costs the Flask process itself, so the work per request can be cut
where it goes. Both run through the WSGI app with Flask's test client on a scratch
PostgreSQL database (dropped at the end): the project, and the floor (bench/floor_app.py:
one INSERT of each request's JSON body) with the same 8 bodies. Printed: CPU ms (process
time, this process only: PostgreSQL's own work is not in it) and wall ms per flow, and with
`--profile N` the N costliest functions by cumulative and by own time (cProfile).

Run: `.venv/bin/python bench/participant_profile.py [--flows 60] [--profile 40]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dispatch_soak import DEFAULT_DATABASE_URL, drop_database, scratch_database
from bench.participant_load import Flow, environment, load
from pro_server import create_app
from pro_server.config import load_settings

WARM = 5  # flows before timing: every code path imported and every statement compiled


PER_REQUEST: dict[str, list[float]] = defaultdict(list)  # CPU ms of each kind of request


def project_flow(client: Any, f: Flow) -> None:
    api = "/api/v1/p"

    def ok(kind: str, send: Callable[[], Any], status: int) -> Any:
        c = time.process_time()
        response = send()
        PER_REQUEST[kind].append((time.process_time() - c) * 1000)
        assert response.status_code == status, (response.status_code, response.get_data())
        return response

    csrf = ok("csrf", lambda: client.get("/api/v1/auth/csrf"), 200).json["csrf_token"]
    csrf = ok("open", lambda: client.post(f"{api}/session", json={"token": f.token},
                                          headers={"X-CSRFToken": csrf}), 200).json["csrf_token"]
    headers = {"X-CSRFToken": csrf}
    for n, (code, answers) in enumerate(f.answers.items()):
        body = {"instrument": code, "answers": answers, "language": "en"}
        ok("first save" if n == 0 else "save", lambda body=body: client.patch(
            f"{api}/assessments/{f.assessment_id}/draft", headers=headers, json=body), 200)
    ok("submit", lambda: client.post(
        f"{api}/assessments/{f.assessment_id}/submission", headers=headers,
        json={"idempotency_key": uuid.uuid4().hex, "answers": f.answers, "language": "en"}),
        201)


def floor_flow(client: Any, f: Flow) -> None:
    bodies: list[dict[str, Any]] = [{}, {"token": f.token}]
    bodies += [{"instrument": code, "answers": answers, "language": "en"}
               for code, answers in f.answers.items()]
    bodies.append({"idempotency_key": uuid.uuid4().hex, "answers": f.answers,
                   "language": "en"})
    for body in bodies:
        assert client.post("/floor", json=body).status_code == 200


def timed(flow: Callable, client: Any, flows: list[Flow],
          profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """Median CPU ms and wall ms per flow."""
    cpu, wall = [], []
    for f in flows:
        c, w = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        flow(client, f)
        if profile:
            profile.disable()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=60)
    parser.add_argument("--profile", type=int, default=0,
                        help="print the N costliest functions (a second, profiled pass)")
    parser.add_argument("--dump", help="write the profile's pstats to this file")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    url = scratch_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="participant-profile-") as instance:
            env = environment(url, instance)
            passes = 2 if args.profile else 1
            flows = load(env, WARM * 2 + args.flows * passes)
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE floor_row (id BIGSERIAL PRIMARY KEY, payload "
                                  "TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT "
                                  "now())"))
                conn.execute(text("ANALYZE"))
            engine.dispose()
            os.environ["FLOOR_DATABASE_URL"] = url
            from bench.floor_app import app as floor_app

            app = create_app(load_settings(env))
            project, floor = app.test_client(), floor_app.test_client()
            timed(project_flow, project, flows[:WARM])
            timed(floor_flow, floor, flows[WARM:WARM * 2])
            flows = flows[WARM * 2:]
            mine, flows = flows[:args.flows], flows[args.flows:]
            PER_REQUEST.clear()
            p_cpu, p_wall = timed(project_flow, project, mine)
            f_cpu, f_wall = timed(floor_flow, floor, mine)
            print(f"{args.flows} flows of 8 requests, median per flow (this process's CPU; "
                  f"wall includes PostgreSQL):")
            print(f"  project  CPU {p_cpu:6.1f} ms  wall {p_wall:6.1f} ms")
            print(f"  floor    CPU {f_cpu:6.1f} ms  wall {f_wall:6.1f} ms")
            print(f"  ratio floor/project CPU {f_cpu / p_cpu:.2f}  wall {f_wall / p_wall:.2f}")
            print("  project CPU ms per request, median: " + ", ".join(
                f"{kind} {statistics.median(v):.1f}" for kind, v in PER_REQUEST.items()))
            if args.profile:
                profile = cProfile.Profile(time.process_time)  # CPU, not waits
                timed(project_flow, project, flows[:args.flows], profile)
                if args.dump:
                    profile.dump_stats(args.dump)
                for key in ("cumulative", "tottime"):
                    out = io.StringIO()
                    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(key).print_stats(
                        args.profile)
                    print(out.getvalue())
            app.extensions["pro"]["engine"].dispose()
            from bench.floor_app import engine as floor_engine

            floor_engine.dispose()
    finally:
        drop_database(args.database_url, url)


if __name__ == "__main__":
    main()
