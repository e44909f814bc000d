"""Email reminders with real `pro scheduler` processes: kill -9 while the mail server holds
its answer to an email's DATA, restart, and count at the fake mail server.

What SMTP allows: a server that has the whole message queues it before it answers "250";
a client that dies before reading that answer cannot know, and no SMTP command asks a
server what it took (RFC 5321 4.1.1.4 names this duplicate). The interrupted row is sent
again under the same Message-ID, so the one copy too many is recognisable as the same
message; every other email arrives once."""

from __future__ import annotations

import pytest

from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant
from tests.messaging.mail.support import email_env
from tests.messaging.support import local, queue_day7_reminders, scheduler_env
from tests.messaging.test_scheduler_process import Gate, kill_mid_send_then_restart

pytestmark = pytest.mark.postgres_only(
    reason="scheduler processes run on PostgreSQL (production; CI sets it)")


def _email_rows(world, ctx_factory, per_participant: int) -> None:  # type: ignore[no-untyped-def]
    """Three participants on email, `per_participant` reminders each for their Day 7 survey,
    due now."""
    pids = [world.enrol(f"GNV-9{n:02d}", None) for n in range(3)]
    ctx = ctx_factory()
    for n, pid in enumerate(pids):
        p = ctx.session.get(Participant, pid)
        p.email, p.reminder_channels = f"pat.{n}@example.com", "email"
        queue_day7_reminders(ctx, p, "email", 20_000, per_participant)
    ctx.session.commit()


def test_kill_9_mid_email_then_a_restart_delivers_every_message_id_once(
        world, database, clock, ctx_factory, fake_twilio, fake_smtp, tmp_path):
    clock.set(local(2026, 3, 4, 10, 0))  # the Day 7 window is open; allowed hours
    _email_rows(world, ctx_factory, 4)
    rows = lambda: world.rows(OutboxMessage.channel == "email",  # noqa: E731
                              OutboxMessage.occurrence >= 20_000)
    total = len(rows())
    gate = Gate(fake_smtp, 5)
    env = {**scheduler_env(database, clock.now(), tmp_path, fake_twilio), **email_env(fake_smtp)}
    kill_mid_send_then_restart(env, gate, fake_smtp, clock.now(),
                               lambda: sum(r.status == "sent" for r in rows()) == total)
    sent = rows()
    assert {(r.status, r.needs_review) for r in sent} == {("sent", False)}
    at_server = fake_smtp.by_message_id()
    # Every email row's Message-ID arrived (with the reminders, each participant's
    # window-opened notice, which had no phone to go to), and nothing else did...
    emailed = world.rows(OutboxMessage.channel == "email", OutboxMessage.status == "sent")
    assert sorted(at_server) == sorted(r.provider_message_id for r in emailed)
    # ...once, except the one in flight at the kill: the server had queued it before its
    # "250" went unread; sent again under the same Message-ID, a duplicate a mail program
    # can recognise.
    assert sum(at_server.values()) == len(emailed) + 1
    (twice,) = [mid for mid, n in at_server.items() if n == 2]
    (interrupted,) = [r for r in sent if r.provider_message_id == twice]
    assert interrupted.attempts == 2
