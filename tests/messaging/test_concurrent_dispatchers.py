"""Two dispatcher processes (real OS processes, `pro jobs run-once`) over 2,000 due SMS on
PostgreSQL: each is sent exactly once, counted at the fake Twilio."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import local, queue_bulk, scheduler_env

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTICIPANTS, PER_PARTICIPANT = 20, 100


@pytest.mark.postgres_only(reason="row locks with SKIP LOCKED are the PostgreSQL path")
def test_two_dispatcher_processes_send_each_message_exactly_once(
        world, database, clock, ctx_factory, fake_twilio, tmp_path):
    pids = [world.enrol(f"GNV-6{n:02d}", f"+135255506{n:02d}") for n in range(PARTICIPANTS)]
    clock.set(local(2026, 3, 4, 10, 0))  # the Day 7 windows are open; allowed hours
    queue_bulk(ctx_factory, pids, PER_PARTICIPANT)

    env = scheduler_env(database, clock.now(), tmp_path, fake_twilio, timeout_seconds=10)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "pro", "jobs", "run-once"]
    procs = [subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    done = [int(line.split(": ")[1]) for out, _ in outputs for line in out.splitlines()
            if line.startswith("dispatch-messages")]
    assert len(done) == 2
    assert min(done) > 0, f"both processes should have sent some: {done}"

    sms = world.rows(OutboxMessage.channel == "sms", OutboxMessage.provider_message_id.is_not(None))
    bulk = [r for r in sms if r.occurrence >= 10_000]
    assert len(bulk) == PARTICIPANTS * PER_PARTICIPANT
    assert {r.status for r in bulk} == {"sent"}
    assert world.rows(OutboxMessage.status.in_(("pending", "sending")),
                      OutboxMessage.next_attempt_at <= clock.now()) == []
    # At the fake: one message per row (deduplication key), none without a row.
    at_fake = fake_twilio.messages
    assert sum(done) >= len(at_fake) >= PARTICIPANTS * PER_PARTICIPANT
    assert Counter(m.sid for m in at_fake).most_common(1)[0][1] == 1
    assert sorted(m.sid for m in at_fake) == sorted(r.provider_message_id for r in sms)
    assert len({m.body for m in at_fake}) == len(at_fake)  # each with its own fresh link
    per_key = Counter(r.dedup_key for r in sms)
    assert set(per_key.values()) == {1}
