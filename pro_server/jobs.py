"""Every periodic job of the service, in one list, and how to run them.

The scheduler process (`flask --app wsgi pro scheduler`) runs each at its interval;
`pro simulate` and `pro jobs run-once` run them all once. Each feature lists its own
jobs in its `feature.py`.
"""

from __future__ import annotations

import logging
import signal
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
        return ServiceContext(session=pro["session_factory"](), clock=pro["clock"],
                              actor=Actor.system(f"scheduler:{job_id}"), settings=pro["settings"])

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


def run_scheduler(app: Flask) -> None:
    """A blocking APScheduler running every job at its interval (its own process)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    jobs = all_jobs()
    for job in jobs:
        scheduler.add_job(run_job, "interval", seconds=job.seconds, args=(app, job), id=job.id,
                          max_instances=1, coalesce=True, replace_existing=True,
                          misfire_grace_time=job.seconds)
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in jobs))

    def stop(signum: int, _frame: object) -> None:
        # systemd stops with SIGTERM: let the job in progress (a text being handed to the
        # provider) finish, then leave; a send cut short would need a review.
        log.info("scheduler stopping (signal %s) after the job in progress", signum)
        if not scheduler.running:  # still in the first run, before the loop started
            raise SystemExit(0)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    run_all_once(app)
    scheduler.start()
