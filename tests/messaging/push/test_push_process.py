"""Push reminders with real `pro scheduler` processes: kill -9 while the push service
holds a notification's answer, restart, and count at the fake push service what each
device shows (RFC 8030 Topic replacement, the way a push service keeps one copy)."""

from __future__ import annotations

import pytest

from pro_server.messaging import push
from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant
from tests.messaging.push.support import push_env
from tests.messaging.support import local, queue_day7_reminders, scheduler_env
from tests.messaging.test_scheduler_process import Gate, kill_mid_send_then_restart

pytestmark = pytest.mark.postgres_only(
    reason="scheduler processes run on PostgreSQL (production; CI sets it)")


def _push_rows(world, ctx_factory, fake_push, per_participant: int):  # type: ignore[no-untyped-def]
    """Three participants on push with one device each, and `per_participant` reminders
    for each one's Day 7 survey due now."""
    devices = {}
    pids = [world.enrol(f"GNV-9{n:02d}", None) for n in range(3)]
    ctx = ctx_factory()  # one transaction after the enrolments (the audit trail's lock)
    for pid in pids:
        p = ctx.session.get(Participant, pid)
        p.reminder_channels = "push"
        device = fake_push.subscribe()
        push.subscribe(ctx, p, device.as_browser_json())
        devices[pid] = device
        queue_day7_reminders(ctx, p, "push", 20_000, per_participant)
    ctx.session.commit()
    return devices


def test_kill_9_mid_push_then_a_restart_shows_every_notification_once(
        world, database, clock, ctx_factory, fake_twilio, fake_push, tmp_path):
    clock.set(local(2026, 3, 4, 10, 0))  # the Day 7 window is open; allowed hours
    devices = _push_rows(world, ctx_factory, fake_push, 4)
    rows = lambda: world.rows(OutboxMessage.channel == "push",  # noqa: E731
                              OutboxMessage.occurrence >= 20_000)
    total = len(rows())
    gate = Gate(fake_push, 5)
    env = {**scheduler_env(database, clock.now(), tmp_path, fake_twilio), **push_env()}
    kill_mid_send_then_restart(env, gate, fake_push, clock.now(),
                               lambda: sum(r.status == "sent" for r in rows()) == total)
    sent = rows()
    assert {(r.status, r.needs_review) for r in sent} == {("sent", False)}
    for r in sent:  # each device shows each of its reminders once
        shown = [n for n in fake_push.delivered(devices[r.participant_id])
                 if n["tag"] == f"pro-{r.id}"]
        assert len(shown) == 1, r.id
    posts = sum(devices[r.participant_id].posts_by_topic[f"pro-{r.id}"] for r in sent)
    # The one in flight at the kill reached the push service twice (no push service can
    # be asked what it took); its Topic made the second replace the first.
    assert posts == total + 1
    assert fake_push.rejected == []
