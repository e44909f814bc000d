"""The scheduler records transitions once, and statuses are right without it."""

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pro_server.jobs import run_all_once
from pro_server.schedule.models import Assessment, AssessmentTransition
from tests.conftest import TEST_DATA_KEY
from tests.factories import enrol_over_api, enrol_participant
from tests.schedule.conftest import by_code, give

REPO = Path(__file__).resolve().parents[2]


def test_status_is_right_after_the_scheduler_was_down_for_three_days(app, gnv, clock):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    early = enrol_over_api(gnv, "GNV-401", enrolled_on="2026-02-20")
    late = enrol_over_api(gnv, "GNV-402", enrolled_on="2026-02-20")
    give(gnv, early, 1, "2026-03-05T10:00")  # INF1_D7: 03-10..03-14
    clock.set(datetime(2026, 3, 8, 16, 0, tzinfo=UTC))
    give(gnv, late, 1, "2026-03-08T10:00")  # INF1_D7: 03-13..03-17
    clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
    run_all_once(app)  # the last run before the scheduler went down
    clock.set(datetime(2026, 3, 15, 12, 0, tzinfo=UTC))  # three and a bit days, no job ran
    assert by_code(gnv.get(f"/api/v1/participants/{early}/schedule").json)[
        "INF1_D7"]["status"] == "missed"
    assert by_code(gnv.get(f"/api/v1/participants/{late}/schedule").json)[
        "INF1_D7"]["status"] == "open"
    with app.extensions["pro"]["engine"].connect() as conn:
        recorded = dict(conn.execute(text(
            "SELECT p.subject_key, a.recorded_status FROM assessment a JOIN participant p "
            "ON p.id = a.participant_id WHERE a.code = 'INF1_D7'")).all())
    assert recorded == {"GNV-401": "open", "GNV-402": "scheduled"}  # what the jobs last saw
    run_all_once(app)
    with app.extensions["pro"]["engine"].connect() as conn:
        recorded = dict(conn.execute(text(
            "SELECT p.subject_key, a.recorded_status FROM assessment a JOIN participant p "
            "ON p.id = a.participant_id WHERE a.code = 'INF1_D7'")).all())
    assert recorded == {"GNV-401": "missed", "GNV-402": "open"}


def test_running_the_jobs_twice_records_each_change_once(app, gnv, clock):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-403", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    clock.set(datetime(2026, 4, 20, 12, 0, tzinfo=UTC))
    first = run_all_once(app)["window-transitions"]
    second = run_all_once(app)["window-transitions"]
    assert first >= 2
    assert second == 0


def test_simulate_moves_the_clock_and_runs_the_jobs(app, gnv, clock):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-404", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    result = app.test_cli_runner().invoke(args=["pro", "simulate", "--days", "12"])
    assert result.exit_code == 0, result.output
    assert "clock is now 2026-03-17T16:00" in result.output
    assert clock.now() == datetime(2026, 3, 17, 16, 0, tzinfo=UTC)
    with app.extensions["pro"]["engine"].connect() as conn:
        steps = conn.execute(text(
            "SELECT t.from_status, t.to_status FROM assessment_transition t JOIN assessment a "
            "ON a.id = t.assessment_id WHERE a.code = 'INF1_D7' ORDER BY t.id")).all()
    assert steps == [("new", "scheduled"), ("scheduled", "open"), ("open", "missed")]


def test_simulate_refuses_a_production_configuration(settings, clock, engine):
    from pro_server import create_app

    prod = create_app(replace(settings, env="production"), clock=clock, engine=engine)
    result = prod.test_cli_runner().invoke(args=["pro", "simulate", "--days", "1"])
    assert result.exit_code != 0
    assert "refuses to run with a production configuration" in result.output


def _enrol_many(ctx_factory, n: int) -> None:
    ctx = ctx_factory()
    for i in range(n):
        enrol_participant(ctx, f"LOAD-{i:04d}", enrolled_on=ctx.now().date() - timedelta(days=1))
    ctx.session.commit()


class _LogReader:
    """Drains a scheduler process's log; `started` is set once its first round of jobs is
    done (APScheduler's "Scheduler started" follows it) or the process ended."""

    def __init__(self, proc) -> None:
        self.lines: list[str] = []
        self.ok = False
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip())
            if "Scheduler started" in line:
                self.ok = True
                self.started.set()
        self.started.set()


def _wait_until_blocked(engine, barrier, n: int, procs) -> None:
    """Until n sessions wait on the barrier's lock (or a process ends early)."""
    holder = barrier.execute(text("SELECT pg_backend_pid()")).scalar()
    deadline = time.monotonic() + 240
    while True:
        with engine.connect() as watcher:  # a new transaction: pg_stat_activity is fresh
            blocked = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
                {"holder": holder}).scalar()
        if blocked == n:
            return
        ended = [p.returncode for p in procs if p.poll() is not None]
        assert not ended, f"a scheduler process ended before the start: {ended}"
        assert time.monotonic() < deadline, f"only {blocked} of {n} reached the start line"
        time.sleep(0.05)


@pytest.mark.postgres_only(reason="row locks with SKIP LOCKED are the PostgreSQL path")
def test_two_scheduler_processes_record_each_change_exactly_once(
        app, demo, database, ctx_factory, clock, tmp_path):
    _enrol_many(ctx_factory, 500)  # each gets an open BASELINE
    with app.extensions["pro"]["session_factory"]() as session:
        to_change = session.scalar(select(func.count()).select_from(Assessment).where(
            Assessment.recorded_status != "missed"))
    assert to_change >= 500
    later = clock.now() + timedelta(days=90)  # every baseline is past its cap: missed
    env = {
        **os.environ, "DATABASE_URL": database.url, "PRO_FAKE_NOW": later.isoformat(),
        "PRO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x" * 40,
        "PRO_DATA_KEYS": TEST_DATA_KEY, "SMS_BACKEND": "console", "LOG_LEVEL": "INFO",
    }
    # The real scheduler process: it runs every job once as it starts, then at intervals.
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "pro", "scheduler"]
    engine = app.extensions["pro"]["engine"]
    with engine.connect() as barrier:
        # A start line: the table lock holds both processes at their first read of the
        # assessments until both are there, then lets them go at once.
        barrier.execute(text("LOCK TABLE assessment IN ACCESS EXCLUSIVE MODE"))
        procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        readers = [_LogReader(p) for p in procs]
        try:
            _wait_until_blocked(engine, barrier, 2, procs)
            barrier.rollback()
            for reader in readers:
                assert reader.started.wait(timeout=300), reader.lines[-20:]
                assert reader.ok, reader.lines[-20:]
        finally:
            for proc, reader in zip(procs, readers, strict=True):
                proc.terminate()
                proc.wait(timeout=60)
                reader.thread.join(timeout=60)  # the pipe is at its end once the process is
                proc.stderr.close()
    done = [int(match.group(1)) for reader in readers for line in reader.lines
            if (match := re.search(r"job window-transitions: (\d+) done", line))]
    print(f"\nwindow-transitions recorded per scheduler process: {done} "
          f"(changes due: {to_change})")
    assert len(done) == 2
    assert min(done) > 0, f"both processes should have claimed some: {done}"
    assert sum(done) == to_change  # shared between the two, each change made once
    with app.extensions["pro"]["session_factory"]() as session:
        missed = session.scalar(select(func.count()).select_from(AssessmentTransition).where(
            AssessmentTransition.to_status == "missed",
            AssessmentTransition.recorded_by == "scheduler"))
        per_assessment = session.execute(
            select(AssessmentTransition.assessment_id, func.count())
            .where(AssessmentTransition.to_status == "missed")
            .group_by(AssessmentTransition.assessment_id)
            .having(func.count() > 1)).all()
        recorded = dict(session.execute(
            select(Assessment.recorded_status, func.count()).group_by(Assessment.recorded_status)
        ).all())
    assert missed == to_change
    assert per_assessment == []
    assert set(recorded) == {"missed"}
