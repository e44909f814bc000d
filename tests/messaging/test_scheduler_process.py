"""Issue 19 with real `pro scheduler` processes: kill -9 in the middle of a provider call,
SIGTERM during one, and a first round that fails. The fake Twilio holds the chosen call
open, so each kill lands while a message is in flight."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from pro_server.messaging.feature import sms_sender
from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import DyingSender, local, queue_bulk, scheduler_env

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "flask", "--app", "wsgi", "pro", "scheduler"]
DEADLINE = 60.0  # seconds; each wait ends as soon as its condition holds

pytestmark = pytest.mark.postgres_only(
    reason="scheduler processes run on PostgreSQL (production; CI sets it)")


class Gate:
    """Holds the fake's answer to the n-th message it accepts until opened (the fake
    Twilio's or the fake push service's `on_message`)."""

    def __init__(self, fake, n: int) -> None:  # type: ignore[no-untyped-def]
        self.n, self.count = n, 0
        self.reached, self.opened = threading.Event(), threading.Event()
        fake.on_message = self

    def __call__(self, *message: object) -> None:
        self.count += 1
        if self.count == self.n:
            self.reached.set()
            self.opened.wait(DEADLINE)


class Scheduler:
    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(COMMAND, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        self.proc.stderr.close()  # type: ignore[union-attr]


def wait_until(condition: Callable[[], bool], what: str, *procs: Scheduler) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        for s in procs:
            assert s.proc.poll() is None, f"{what}: the scheduler exited ({s.proc.returncode})" \
                                          f"\n" + "\n".join(s.lines[-20:])
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE} s"
        time.sleep(0.05)


def kill_mid_send_then_restart(env: dict[str, str], gate: Gate, fake, now,  # type: ignore[no-untyped-def]
                               all_sent: Callable[[], bool]) -> None:
    """Run a scheduler, kill -9 it while `gate` holds one of its sends at `fake`, then run
    another 10 s later (on the fake clock) until `all_sent()`, and stop it cleanly."""
    first = Scheduler(env)
    try:
        assert gate.reached.wait(DEADLINE), first.lines[-20:]
        first.proc.kill()  # kill -9 while the send is in flight
        assert first.proc.wait(timeout=20) == -signal.SIGKILL
    finally:
        gate.opened.set()
        first.close()
    fake.on_message = None
    second = Scheduler({**env, "PRO_FAKE_NOW": (now + timedelta(seconds=10)).isoformat()})
    try:
        wait_until(all_sent, "all sent", second)
        assert second.stop() == 0
    finally:
        second.close()


def _bulk(world, ctx_factory, clock) -> list[int]:  # type: ignore[no-untyped-def]
    pids = [world.enrol(f"GNV-8{n:02d}", f"+135255508{n:02d}") for n in range(3)]
    clock.set(local(2026, 3, 4, 10, 0))  # Day 7 windows open; allowed hours
    queue_bulk(ctx_factory, pids, 10)
    return pids


def _due_sms(world, pids) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return world.rows(OutboxMessage.channel == "sms", OutboxMessage.participant_id.in_(pids),
                      OutboxMessage.due_at <= local(2026, 3, 4, 10, 0),
                      OutboxMessage.status != "cancelled")


def _count(world, pids) -> Counter:  # type: ignore[no-untyped-def]
    return Counter(r.status for r in _due_sms(world, pids))


def _each_sent_once(world, pids, fake_twilio) -> Counter:  # type: ignore[no-untyped-def]
    """Every due text is sent, none waits for review, and the fake Twilio took each once
    (its messages by SID)."""
    rows = _due_sms(world, pids)
    assert {(r.status, r.needs_review) for r in rows} == {("sent", False)}
    at_fake = Counter(m.sid for m in fake_twilio.messages)
    assert sorted(at_fake) == sorted(r.provider_message_id for r in rows)
    assert set(at_fake.values()) == {1}
    return at_fake


def test_kill_9_mid_send_then_a_restart_sends_every_message_once(
        world, database, clock, ctx_factory, fake_twilio, tmp_path):
    pids = _bulk(world, ctx_factory, clock)
    total = len(_due_sms(world, pids))
    gate = Gate(fake_twilio, 5)
    first = Scheduler(scheduler_env(database, clock.now(), tmp_path, fake_twilio))
    try:
        assert gate.reached.wait(DEADLINE), first.lines[-20:]
        first.proc.kill()  # kill -9 while the 5th message is in flight
        assert first.proc.wait(timeout=20) == -signal.SIGKILL
    finally:
        gate.opened.set()
        first.close()
    # Restarted 10 seconds later: what the dead process claimed but never attempted goes
    # out at once (before: `sending` for 15 minutes, then staff review, never sent), and
    # the message it was sending (its 5 s call timeout over, its process gone) is settled
    # with the provider's list: the provider has it, it is recorded, not sent again.
    second = Scheduler(scheduler_env(database, clock.now() + timedelta(seconds=10), tmp_path,
                                     fake_twilio))
    try:
        wait_until(lambda: _count(world, pids)["sent"] == total, "all sent", second)
        assert second.stop() == 0
    finally:
        second.close()
    _each_sent_once(world, pids, fake_twilio)


def test_two_schedulers_one_killed_mid_send_the_other_sends_every_message_once(
        world, database, clock, ctx_factory, fake_twilio, tmp_path):
    pids = _bulk(world, ctx_factory, clock)
    total = len(_due_sms(world, pids))
    gate = Gate(fake_twilio, 5)
    every_second = {"PRO_JOB_INTERVAL_SECONDS": "1"}
    # The first's held call must not time out (in real time) while the second starts and runs
    # its jobs, however slow the machine: it would then send the rest of its batch itself. The
    # second judges the dead first's call by its own 5 s timeout (on its clock, 20 s on).
    first = Scheduler({**scheduler_env(database, clock.now(), tmp_path, fake_twilio,
                                       timeout_seconds=DEADLINE),
                       **every_second})
    second = None
    try:
        assert gate.reached.wait(DEADLINE), first.lines[-20:]  # the first holds the batch
        # The second runs beside it, its clock 20 s on (within the first's leases).
        second = Scheduler({**scheduler_env(database, clock.now() + timedelta(seconds=20),
                                            tmp_path, fake_twilio, log_level="INFO"),
                            **every_second})
        wait_until(lambda: sum("Running job" in line for line in second.lines) >= 3,
                   "the second scheduler runs its jobs", second)
        assert len(fake_twilio.messages) == 5  # it takes nothing the first one holds
        first.proc.kill()  # kill -9 while the first's 5th message is in flight
        assert first.proc.wait(timeout=20) == -signal.SIGKILL
        gate.opened.set()
        # Before: the second left the dead one's batch `sending` for the lease, and the
        # message in flight waited for it too.
        wait_until(lambda: _count(world, pids)["sent"] == total, "all sent by the second",
                   second)
        assert second.stop() == 0
    finally:
        gate.opened.set()
        first.close()
        if second is not None:
            second.close()
    assert len(_each_sent_once(world, pids, fake_twilio)) == total


def test_sigterm_finishes_the_message_in_flight_releases_the_rest_and_exits_0(
        world, database, clock, ctx_factory, fake_twilio, tmp_path):
    pids = _bulk(world, ctx_factory, clock)
    total = len(_due_sms(world, pids))
    gate = Gate(fake_twilio, 5)
    scheduler = Scheduler(scheduler_env(database, clock.now(), tmp_path, fake_twilio,
                                        log_level="INFO"))
    try:
        assert gate.reached.wait(DEADLINE), scheduler.lines[-20:]
        scheduler.proc.send_signal(signal.SIGTERM)
        time.sleep(0)  # the signal is delivered at once; the held answer comes after it
        gate.opened.set()
        # Before: Python's default SIGTERM, exit -15 and the batch left `sending`.
        assert scheduler.proc.wait(timeout=20) == 0, scheduler.lines[-20:]
    finally:
        gate.opened.set()
        scheduler.close()
    assert _count(world, pids) == {"sent": 5, "pending": total - 5}
    assert len(fake_twilio.messages) == 5
    world.dispatch()  # the next dispatcher sends the rest at once
    assert _count(world, pids) == {"sent": total}
    assert len(fake_twilio.messages) == total


def test_the_scheduler_survives_a_first_round_that_fails(
        world, database, clock, app, fake_twilio, tmp_path):
    stuck, waiting = "+13525550891", "+13525550892"
    world.enrol("GNV-891", stuck)
    world.enrol("GNV-892", waiting)
    clock.set(local(2026, 3, 4, 10, 0))
    DyingSender(sms_sender(app), to=stuck).die_in(world)  # an interrupted send, 20 min ago
    fake_twilio.fail_list_next(1000, 500)  # and the provider's list is down
    scheduler = Scheduler(scheduler_env(database, clock.now() + timedelta(minutes=20),
                                        tmp_path, fake_twilio, log_level="INFO"))
    try:
        # Before: the lookup's TwilioException ended the process (exit 1) in its first round.
        wait_until(lambda: any("Scheduler started" in line for line in scheduler.lines),
                   "the scheduler runs", scheduler)
        wait_until(lambda: len(world.texts_to(waiting)) == 1, "the other reminder sent",
                   scheduler)
        assert scheduler.stop() == 0
    finally:
        scheduler.close()
    assert world.texts_to(stuck) == []
    (row,) = world.rows(OutboxMessage.channel == "sms", OutboxMessage.status == "sending")
    assert row.needs_review
    assert "could not be asked" in row.review_reason


@pytest.fixture(autouse=True)
def _forget_the_fake_hook(fake_twilio):
    yield
    fake_twilio.on_message = None
