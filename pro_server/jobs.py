"""Every periodic job of the service, in one list, and how to run them.

The scheduler process (`flask --app wsgi pro scheduler`) runs each at its interval;
`pro simulate` and `pro jobs run-once` run them all once. Each feature lists its own
jobs in its `feature.py`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from pro_server.context import Actor, ServiceContext
from pro_server.features import feature_modules

log = logging.getLogger(__name__)

JobFunction = Callable[[Callable[[], ServiceContext]], int]


@dataclass(frozen=True)
class Job:
    id: str
    function: JobFunction
    seconds: int


def all_jobs() -> list[Job]:
    """Each feature's `JOBS`: (id, function, interval in seconds)."""
    return [Job(*spec) for module in feature_modules() for spec in getattr(module, "JOBS", ())]


def context_factory(app: Flask, job_id: str) -> Callable[[], ServiceContext]:
    pro = app.extensions["pro"]

    def new_context() -> ServiceContext:
        return ServiceContext.of_app(pro, Actor.system(f"scheduler:{job_id}"))

    return new_context


def run_job(app: Flask, job: Job) -> int:
    with app.app_context():
        try:
            done = job.function(context_factory(app, job.id))
        except Exception:
            log.exception("job %s failed", job.id)
            raise
        if done:
            log.info("job %s: %d done", job.id, done)
        return done


def run_all_once(app: Flask) -> dict[str, int]:
    return {job.id: run_job(app, job) for job in all_jobs()}


class ClockCannotMove(ValueError):
    """The app runs on a clock that only the system moves (production)."""


def simulate(app: Flask, days: int, step_hours: int = 1) -> dict[str, int]:
    """Move the app's clock forward `days`, running every job at each step of `step_hours`;
    what each job did in all. Development only (`pro simulate`, bench/dashboard.py)."""
    clock = app.extensions["pro"]["clock"]
    if not hasattr(clock, "advance"):
        raise ClockCannotMove("this clock cannot be moved")
    totals: dict[str, int] = {}
    for _ in range(days * 24 // step_hours):
        clock.advance(timedelta(hours=step_hours))
        for job_id, done in run_all_once(app).items():
            totals[job_id] = totals.get(job_id, 0) + done
    return totals


def run_job_logged(app: Flask, job: Job) -> None:
    """A scheduler round of one job: a failure (database blip, provider outage) is logged
    with its error, and the job runs again at its next interval."""
    with contextlib.suppress(Exception):  # run_job has logged it with its traceback
        run_job(app, job)


def run_scheduler(app: Flask, stop_signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT),
                  grace_seconds: float = 60.0) -> None:
    """APScheduler running every job at its interval (its own process), each job once at
    the start. SIGTERM or SIGINT stops it: no new claims, the row in flight is finished,
    the rest of a batch goes back to the queue, and it returns (exit 0)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stopping = threading.Event()
    app.extensions["pro"]["stopping"] = stopping

    def stop(signum: int, _frame: object) -> None:
        log.info("scheduler: %s received, stopping", signal.Signals(signum).name)
        stopping.set()

    for signum in stop_signals:
        signal.signal(signum, stop)
    jobs = all_jobs()
    log.info("scheduler starting with jobs: %s", ", ".join(j.id for j in jobs))
    for job in jobs:  # the first round, as tolerant of failures as the later ones
        if not stopping.is_set():
            run_job_logged(app, job)
    scheduler = BackgroundScheduler(timezone="UTC")
    cap = app.extensions["pro"]["settings"].job_interval_seconds
    for job in jobs:
        seconds = min(job.seconds, cap) if cap > 0 else job.seconds
        scheduler.add_job(run_job_logged, "interval", seconds=seconds, args=(app, job),
                          id=job.id, max_instances=1, coalesce=True, replace_existing=True,
                          misfire_grace_time=seconds)
    if not stopping.is_set():
        scheduler.start()
        while not stopping.wait(1.0):
            pass
        # Running jobs see `stopping` and end their round; wait for them (bounded).
        waiter = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True},
                                  daemon=True)
        waiter.start()
        waiter.join(grace_seconds)
        if waiter.is_alive():
            log.warning("scheduler: jobs still running after %.0f s; exiting", grace_seconds)
    log.info("scheduler stopped")
