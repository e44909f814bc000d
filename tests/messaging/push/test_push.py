"""Reminders by Web Push through the real pywebpush against a fake push service on
127.0.0.1 that verifies the VAPID JWT and decrypts the aes128gcm payload as a browser
would; a participant's channel order with its fallback to SMS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from pro_server.audit.models import AuditEvent
from pro_server.config import ConfigError, load_settings
from pro_server.messaging import outbox, push
from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant, PushSubscription
from tests.fakes.fake_push import FakeSubscription
from tests.messaging.push.support import PUBLIC
from tests.messaging.support import local
from tests.participant_web.support import ParticipantClient, token_for


def _device(world, fake_push, pid: int) -> FakeSubscription:
    sub = fake_push.subscribe()
    world.change(lambda ctx: push.subscribe(ctx, ctx.session.get(Participant, pid),
                                            {**sub.as_browser_json(), "device_label": "Phone"}))
    return sub


def _opened(world, pid: int) -> list[OutboxMessage]:
    """The Day 7 window-opened messages (the window opens on Mar 4)."""
    return world.rows(OutboxMessage.participant_id == pid,
                      OutboxMessage.purpose == "window_opened",
                      OutboxMessage.due_at >= local(2026, 3, 4, 0, 0),
                      OutboxMessage.due_at < local(2026, 3, 5, 0, 0),
                      OutboxMessage.channel != "web", OutboxMessage.status != "cancelled")


def test_push_first_reaches_the_device_once_with_no_health_information(
        world, clock, fake_push):
    pid = world.enrol("GNV-701", "+13525550701", language="es", reminder_channels=["push", "sms"])
    device = _device(world, fake_push, pid)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 10, 30))  # the Day 7 window opens on Mar 4
    (row,) = _opened(world, pid)
    assert (row.channel, row.status) == ("push", "sent")
    shown = fake_push.delivered(device)
    assert [n["body"] for n in shown] == ["Su control del estudio está abierto"]
    assert shown[0]["url"] == "/p"  # the session cookie opens it: no token anywhere
    assert "#" not in str(shown)
    assert "score" not in str(shown).lower()
    assert fake_push.rejected == []
    assert world.texts_to("+13525550701") == []  # push took it: no SMS
    with world.session() as session:
        assert session.scalar(select(PushSubscription.last_sent_at)) == row.sent_at


def test_a_subscription_gone_410_is_deleted_and_the_reminder_goes_by_sms(
        world, clock, fake_push):
    phone = "+13525550702"
    pid = world.enrol("GNV-702", phone, reminder_channels=["push", "sms"])
    device = _device(world, fake_push, pid)
    device.gone = True  # the participant uninstalled: the push service answers 410
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 10, 30))
    pushed, texted = sorted(_opened(world, pid), key=lambda r: r.channel)
    assert (pushed.channel, pushed.status) == ("push", "failed")
    assert "410" in pushed.status_reason
    assert "sent by SMS instead" in pushed.status_reason
    assert (texted.channel, texted.status, texted.fallback_of_id) == ("sms", "sent", pushed.id)
    assert len(world.texts_to(phone)) == 1
    with world.session() as session:
        assert session.scalars(select(PushSubscription)).all() == []
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "push_subscription.expired")) is not None


def test_push_only_without_a_device_is_not_sent_and_says_why(world, clock, fake_push):
    pid = world.enrol("GNV-703", "+13525550703", reminder_channels=["push"])
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 10, 30))
    (row,) = _opened(world, pid)
    assert (row.channel, row.status) == ("push", "suppressed")
    assert row.status_reason == "no device subscribed to notifications"
    assert world.texts_to("+13525550703") == []


def test_push_waits_for_the_end_of_quiet_hours(world, clock, fake_push):
    pid = world.enrol("GNV-704", None, reminder_channels=["push"])
    device = _device(world, fake_push, pid)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 23, 30))
    (row,) = world.change(lambda ctx: [r for r in outbox.queue_remind_now(
        ctx, ctx.session.get(Participant, pid)) if r.channel == "push"])
    world.dispatch()
    tags = lambda: [n["tag"] for n in fake_push.delivered(device)]  # noqa: E731
    assert f"pro-{row.id}" not in tags()
    (waiting,) = world.rows(OutboxMessage.id == row.id)
    assert waiting.status_reason == "waiting for the end of quiet hours"
    world.walk(local(2026, 3, 5, 9, 30))
    assert f"pro-{row.id}" in tags()


def test_the_participant_subscribes_chooses_push_and_unsubscribes_through_the_api(
        world, app, ctx_factory, fake_push):
    pid = world.enrol("GNV-705", "+13525550705")
    client = ParticipantClient(app.test_client())
    assert client.open_session(token_for(ctx_factory(), "GNV-705")).status_code == 200
    about = client.get("/api/v1/p/notifications").json
    assert (about["available"], about["public_key"], about["devices"]) == (True, PUBLIC, 0)
    sub = fake_push.subscribe()
    assert client.put("/api/v1/p/notifications/subscription",
                      json=sub.as_browser_json()).json["devices"] == 1
    refused = client.put("/api/v1/p/notifications/subscription",
                         json={**sub.as_browser_json(), "endpoint": "http://10.0.0.8/x"})
    assert refused.status_code == 422
    assert "endpoint" in refused.json["errors"]["json"]
    assert client.put("/api/v1/p/notifications/channels",
                      json={"reminder_channels": ["push", "sms"]}).json[
        "reminder_channels"] == ["push", "sms"]
    email = client.put("/api/v1/p/notifications/channels",
                       json={"reminder_channels": ["email"]})
    assert email.status_code == 422
    assert "not configured" in str(email.json["errors"]["json"]["reminder_channels"])
    with world.session() as session:
        stored = session.scalar(select(PushSubscription))
        raw = session.execute(text("SELECT endpoint FROM push_subscription")).scalar()
        assert stored.endpoint == sub.endpoint
        assert sub.endpoint not in raw  # encrypted at rest
        audit = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_id == str(pid))).all()
    assert {"push_subscription.add", "participant.update"} <= set(audit)
    assert client.delete("/api/v1/p/notifications/subscription",
                         json={"endpoint": sub.endpoint}).json["devices"] == 0


def test_an_interrupted_push_is_sent_again_under_its_topic_and_shows_once(
        world, app, clock, fake_push):
    """The dispatcher dies after the push service took the message: no push service can be
    asked what it took, so the next attempt goes under the same Topic, which replaces the
    undelivered copy (RFC 8030 5.4); the device shows one notification."""
    pid = world.enrol("GNV-706", None, reminder_channels=["push"])
    device = _device(world, fake_push, pid)
    clock.set(local(2026, 3, 4, 10, 0))
    world.run_jobs()  # the window opened at midnight; at 10:00 the notification goes
    with world.session() as session:  # as if the process died before recording it
        row = session.get(OutboxMessage, _opened(world, pid)[0].id)
        row.status, row.claimed_by = "sending", "elsewhere:1:dead"
        row.attempted_at = row.lease_until = clock.now()
        session.commit()
    clock.advance(timedelta(minutes=5))  # the lease is over
    world.dispatch()
    (row,) = _opened(world, pid)
    assert (row.status, row.attempts) == ("sent", 2)
    mine = [n for n in fake_push.delivered(device) if n["tag"] == f"pro-{row.id}"]
    assert len(mine) == 1  # the device shows it once...
    assert device.posts_by_topic[f"pro-{row.id}"] == 2  # ...the transport saw it twice


def test_staff_see_and_remove_a_device_and_a_half_vapid_config_is_refused(
        world, gnv, fake_push):
    pid = world.enrol("GNV-707", None, reminder_channels=["push"])
    _device(world, fake_push, pid)
    assert gnv.get("/api/v1/reminder-channels").json == {"available": ["sms", "push"]}
    (device,) = gnv.get(f"/api/v1/participants/{pid}/push-devices").json
    assert device["device_label"] == "Phone"
    assert "endpoint" not in device
    gone = gnv.delete(f"/api/v1/participants/{pid}/push-devices/{device['id']}",
                      json={"reason": "phone lost, per participant call"})
    assert gone.status_code == 204
    assert gnv.get(f"/api/v1/participants/{pid}/push-devices").json == []
    with pytest.raises(ConfigError, match="both VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY"):
        load_settings({"VAPID_PUBLIC_KEY": PUBLIC, "PRO_INSTANCE_PATH": "/nonexistent"})
