"""Benchmark: what dispatching costs per SMS, in statements and milliseconds (issue 20).

Loads N participants with SMS consent, each with an open survey and one due survey reminder
(its text carries a fresh link), then runs the dispatch job once (batches of 100) against the
local fake Twilio (the real twilio library over HTTP), counting every statement sent. The
floor, timed in the same run: the same number of bare provider calls (the twilio library to
the fake, no database). After loading it runs ANALYZE. Prints statements per SMS, ms per
SMS, the floor's ms per SMS and the machine's load.

Run: `.venv/bin/python bench/dispatch.py [--messages 2000]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]` (PostgreSQL: a scratch
database is created next to the one named and dropped at the end; default SQLite in a
temporary folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dispatch_soak import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    drop_database,
    environment,
    scratch_database,
    texting_study,
)
from pro_server import create_app
from pro_server.clock import FixedClock
from pro_server.config import load_settings
from pro_server.jobs import all_jobs, run_job
from pro_server.messaging.feature import sms_sender
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.planning import dedup_key
from pro_server.migrate import upgrade
from pro_server.schedule.models import Assessment
from tests.fakes.fake_twilio import FakeTwilio
from tests.statements import counted

NOW = datetime(2027, 6, 1, 16, 0, tzinfo=UTC)  # 12:00 in New York: no quiet hours


def load(app, messages: int) -> None:  # type: ignore[no-untyped-def]
    pro = app.extensions["pro"]
    with pro["session_factory"]() as session:
        study, site, pids = texting_study(session, pro, "DISPATCH", messages, NOW)
        opens = NOW - timedelta(hours=6)
        session.execute(insert(Assessment), [{
            "participant_id": pid, "study_id": study.id, "site_id": site.id,
            "code": "INF1_D7", "sequence": 2, "anchor": "bench", "protocol_version": "2",
            "instruments": ["bpi_sf"], "timezone": "America/New_York",
            "first_day": opens.date(), "last_day": (opens + timedelta(days=4)).date(),
            "window_start": opens, "window_end": opens + timedelta(days=5),
            "window_version": 1, "recorded_status": "open", "created_at": opens,
            "updated_at": opens} for pid in pids])
        targets = dict(session.execute(select(Assessment.participant_id, Assessment.id)
                                       .where(Assessment.study_id == study.id)).all())
        rows = [{
            "participant_id": pid, "study_id": study.id, "site_id": site.id,
            "channel": "sms", "purpose": "survey_reminder", "target_kind": "assessment",
            "target_id": targets[pid], "occurrence": 0, "language": "en", "status": "pending",
            "dedup_key": dedup_key(pid, "survey_reminder", "assessment", targets[pid], 0,
                                   channel="sms"),
            "due_at": NOW, "next_attempt_at": NOW, "expires_at": opens + timedelta(days=5),
            "attempts": 0, "included_opt_out": False, "outcome_unknown": False,
            "needs_review": False, "status_updated_at": NOW, "created_at": NOW,
            "updated_at": NOW} for pid in pids]
        for start in range(0, len(rows), 5000):
            session.execute(insert(OutboxMessage), rows[start:start + 5000])
        session.commit()
    with pro["engine"].begin() as conn:
        conn.execute(text("ANALYZE"))


def floor_ms(app, fake: FakeTwilio, messages: int) -> float:  # type: ignore[no-untyped-def]
    """Milliseconds per bare provider call: the twilio library to the fake, no database."""
    sender = sms_sender(app)
    began = time.perf_counter()
    for n in range(messages):
        sender.send(f"+1353{n:07d}", "Bench text", status_callback=None)
    return (time.perf_counter() - began) * 1000 / messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    clock = FixedClock(NOW)
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, clock=clock.now)
    base = args.database_url
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as instance:
        url = scratch_database(base) if base else f"sqlite:///{instance}/bench.db"
        try:
            run(url, fake, clock, instance, args.messages)
        finally:
            fake.stop()
            if base:
                drop_database(base, url)


def run(url: str, fake: FakeTwilio, clock: FixedClock, instance: str, messages: int) -> None:
    settings = load_settings(environment(url, fake, instance))
    app = create_app(settings, clock=clock)
    pro = app.extensions["pro"]
    upgrade(pro["engine"])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min); "
          f"{url.split(':')[0]}", flush=True)
    load(app, messages)
    job = next(job for job in all_jobs() if job.id == "dispatch-messages")
    with counted(pro["engine"]) as sent:
        began = time.perf_counter()
        done = run_job(app, job)  # the scheduler's job, as it runs in production
        seconds = time.perf_counter() - began
    statements = [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    with pro["session_factory"]() as session:
        delivered = session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.status == "sent"))
    floor = floor_ms(app, fake, messages)
    ms = seconds * 1000 / messages
    print(f"dispatched {done} rows, {delivered} SMS sent, {len(fake.messages) - messages} "
          f"at the fake")
    print(f"{'':28} {'SMS':>6} {'statements':>10} {'per SMS':>8} {'ms/SMS':>7}")
    print(f"{'dispatch job (batches of 100)':28} {messages:6} {len(statements):10} "
          f"{len(statements) / messages:8.2f} {ms:7.2f}")
    print(f"{'floor: bare provider calls':28} {messages:6} {0:10} {0:8.2f} {floor:7.2f}")
    print(f"database and rendering per SMS beyond the provider call: {ms - floor:.2f} ms")


if __name__ == "__main__":
    main()
