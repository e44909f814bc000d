"""Two dispatcher processes (real OS processes, `pro jobs run-once`) over 2,000 due SMS on
PostgreSQL: each is sent exactly once, counted at the fake Twilio."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.planning import dedup_key
from pro_server.participants.models import Participant
from pro_server.schedule.models import Assessment
from tests.conftest import TEST_DATA_KEY
from tests.messaging_db.support import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, local

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTICIPANTS, PER_PARTICIPANT = 20, 100


def _queue_bulk(world, ctx_factory, pids: list[int]) -> None:
    """100 manual reminders per participant, all due now (distinct deduplication keys)."""
    ctx = ctx_factory()
    now = ctx.now()
    for pid in pids:
        p = ctx.session.get(Participant, pid)
        a = ctx.session.scalar(select(Assessment).where(
            Assessment.participant_id == pid, Assessment.code == "INF1_D7"))
        for n in range(PER_PARTICIPANT):
            occurrence = 10_000 + n
            ctx.session.add(OutboxMessage(
                participant_id=pid, study_id=p.study_id, site_id=p.site_id, channel="sms",
                purpose="survey_reminder", target_kind="assessment", target_id=a.id,
                occurrence=occurrence, language="en", status="pending", due_at=now,
                expires_at=a.window_end, next_attempt_at=now, status_updated_at=now,
                created_at=now, updated_at=now,
                dedup_key=dedup_key(pid, "survey_reminder", "assessment", a.id, occurrence,
                                    channel="sms"),
            ))
    ctx.session.commit()


def test_two_dispatcher_processes_send_each_message_exactly_once(
        world, database, clock, ctx_factory, fake_twilio, tmp_path):
    if database.backend != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are the PostgreSQL path")
    pids = [world.enrol(f"GNV-6{n:02d}", f"+135255506{n:02d}") for n in range(PARTICIPANTS)]
    clock.set(local(2026, 3, 4, 10, 0))  # the Day 7 windows are open; allowed hours
    _queue_bulk(world, ctx_factory, pids)

    env = {
        **os.environ, "DATABASE_URL": database.url, "PRO_FAKE_NOW": clock.now().isoformat(),
        "PRO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "s" * 40,
        "PRO_DATA_KEYS": TEST_DATA_KEY, "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
        "TWILIO_API_BASE_URL": fake_twilio.base_url, "TWILIO_TIMEOUT_SECONDS": "10",
        "LOG_LEVEL": "WARNING",
    }
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
