"""Every periodic job of the service, in one list, and how to run them.

The scheduler process (`flask --app wsgi pro scheduler`) runs each at its interval;
`pro simulate` and `pro jobs run-once` run them all once. Each feature lists its own
jobs in its `feature.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

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
    run_all_once(app)
    scheduler.start()
