"""The staff API: the site-scoped message log, flagged replies, review, remind now."""

from __future__ import annotations

import json

from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import local

GNV_PHONE, MIA_PHONE = "+13525550171", "+13055550172"


def _audit(world, action):
    with world.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id)))


def test_the_message_log_is_site_scoped_and_filtered(world, clock, gnv, staff_client):
    pid = world.enrol("GNV-501", GNV_PHONE)
    mia_pid = world.enrol("MIA-501", MIA_PHONE, site_code="MIA")
    clock.set(local(2026, 3, 4, 10, 0))
    world.dispatch()

    everything = gnv.get("/api/v1/messages?page_size=100")
    assert everything.status_code == 200
    assert {m["site_code"] for m in everything.json} == {"GNV"}
    assert json.loads(everything.headers["X-Pagination"])["total"] >= len(everything.json)
    sent = gnv.get(f"/api/v1/messages?participant_id={pid}&channel=sms&status=sent"
                   "&purpose=window_opened").json
    assert len(sent) == 1
    (message,) = sent
    assert message["subject_key"] == "GNV-501"
    assert message["provider_message_id"] == world.texts_to(GNV_PHONE)[0].sid
    assert "[link]" in message["body_redacted"]
    assert "/p#" not in message["body_redacted"]
    assert message["included_opt_out"] is True
    assert gnv.get(f"/api/v1/messages?participant_id={mia_pid}").json == []
    assert gnv.get("/api/v1/messages?site=MIA").json == []

    monitor = staff_client("monitor@example.org")
    assert {m["site_code"] for m in monitor.get("/api/v1/messages?page_size=100").json} == {
        "GNV", "MIA"}
    assert staff_client("admin@example.org").get("/api/v1/messages").status_code == 403
    assert gnv.get("/api/v1/messages?status=nonsense").status_code == 422


def test_remind_now_is_queued_and_respects_quiet_hours(world, clock, gnv, staff_client):
    pid = world.enrol("GNV-502", GNV_PHONE)
    clock.set(local(2026, 3, 5, 7, 30))
    response = gnv.post(f"/api/v1/participants/{pid}/remind-now",
                        json={"reason": "Called, asked for the link"})
    assert response.status_code == 202, response.json
    assert [(m["channel"], m["status"]) for m in response.json["messages"]] == [
        ("sms", "pending"), ("web", "pending")]
    assert response.json["sms_blocked_reason"] is None
    again = gnv.post(f"/api/v1/participants/{pid}/remind-now", json={})
    assert [m["id"] for m in again.json["messages"]] == [
        m["id"] for m in response.json["messages"]]  # a double click is one reminder
    (event, _) = _audit(world, "message.remind_now")
    assert (event.actor_type, event.reason) == ("staff", "Called, asked for the link")

    world.dispatch()  # 07:30 local: queued, not forced
    assert world.texts_to(GNV_PHONE) == []
    sms_id = response.json["messages"][0]["id"]
    (row,) = world.rows(OutboxMessage.id == sms_id)
    assert (row.status, row.next_attempt_at) == ("pending", local(2026, 3, 5, 9, 0))
    assert row.status_reason == "waiting for the end of quiet hours"
    clock.set(local(2026, 3, 5, 9, 0))
    world.dispatch()
    reminders = [m for m in world.texts_to(GNV_PHONE) if "still waiting" in m.body]
    assert len(reminders) == 1

    mia_pid = world.enrol("MIA-502", "+13055550173", site_code="MIA")
    assert gnv.post(f"/api/v1/participants/{mia_pid}/remind-now", json={}).status_code == 404
    monitor = staff_client("monitor@example.org")
    assert monitor.post(f"/api/v1/participants/{pid}/remind-now", json={}).status_code == 403
    not_yet = world.enrol("GNV-503", "+13525550174", infusion_local=None,
                          enrolled_on=clock.now().date())
    # Enrolled today: the baseline is open, so a reminder can be queued; once done, not.
    assert gnv.post(f"/api/v1/participants/{not_yet}/remind-now", json={}).status_code == 202
    world.submit_survey(not_yet, "BASELINE")
    conflict = gnv.post(f"/api/v1/participants/{not_yet}/remind-now", json={})
    assert conflict.status_code == 409
    assert conflict.json["message"] == "The participant has no survey open now"


def test_remind_now_says_when_the_sms_will_not_go(world, clock, gnv):
    pid = world.enrol("GNV-504", GNV_PHONE)
    clock.set(local(2026, 3, 5, 11, 0))
    world.reply(GNV_PHONE, "STOP")
    response = gnv.post(f"/api/v1/participants/{pid}/remind-now", json={})
    assert response.status_code == 202
    assert response.json["sms_blocked_reason"].startswith("participant opted out of SMS")
    world.dispatch()
    assert world.texts_to(GNV_PHONE) == []


def test_push_is_not_offered_without_its_keys(gnv, app):
    assert gnv.get("/api/v1/reminder-channels").json == {"available": ["sms"]}
    assert app.test_client().get("/api/v1/reminder-channels").status_code == 401


def test_flagged_replies_are_listed_and_resolved(world, clock, gnv, staff_client):
    pid = world.enrol("GNV-505", GNV_PHONE)
    clock.set(local(2026, 3, 5, 11, 0))
    world.reply(GNV_PHONE, "Please stop texting me")
    world.reply(GNV_PHONE, "STOP")  # handled automatically: not in the review queue
    assert world.participant(pid).sms_opted_out_at is not None
    world.reply(GNV_PHONE, "START")
    assert world.participant(pid).sms_opted_out_at is None
    world.reply("+13525550999", "who is this?")  # an unknown number: no site, not listed

    queue = gnv.get("/api/v1/inbound-messages?needs_review=true")
    assert queue.status_code == 200
    (item,) = queue.json
    assert (item["kind"], item["body"], item["subject_key"]) == (
        "possible_opt_out", "Please stop texting me", "GNV-505")
    assert len(gnv.get("/api/v1/inbound-messages").json) == 3
    assert staff_client("coordinator.mia@example.org").get(
        "/api/v1/inbound-messages").json == []

    url = f"/api/v1/inbound-messages/{item['id']}/resolve"
    monitor = staff_client("monitor@example.org")
    assert monitor.post(url, json={"reason": "Seen"}).status_code == 403
    assert gnv.post(url, json={}).status_code == 422
    resolved = gnv.post(url, json={"reason": "Asked to stop in her own words",
                                   "apply_opt_out": True})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["needs_review"] is False
    assert resolved.json["reviewed_by"].startswith("coordinator.gnv@example.org")
    assert world.participant(pid).sms_opted_out_at is not None
    assert gnv.get("/api/v1/inbound-messages?needs_review=true").json == []
    assert gnv.post(url, json={"reason": "again"}).status_code == 409
    (event,) = _audit(world, "inbound_message.resolve")
    assert event.after == {"needs_review": False, "opt_out_applied": True}


def test_review_items_are_resolved_with_a_reason(world, clock, gnv, staff_client):
    pid = world.enrol("GNV-506", GNV_PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.fake.fail_next(1, 21610)
    world.dispatch()
    (item,) = gnv.get(f"/api/v1/messages?participant_id={pid}&needs_review=true").json
    assert item["status"] == "suppressed"
    assert item["review_reason"].startswith("The participant's number opted out at the carrier")
    url = f"/api/v1/messages/{item['id']}/resolve"
    assert gnv.post(url, json={"outcome": "sent"}).status_code == 422  # no reason
    assert gnv.post(url, json={"reason": "Checked", "outcome": "resend"}).status_code == 422
    resolved = gnv.post(url, json={"reason": "Called the participant; confirmed"})
    assert resolved.status_code == 200, resolved.json
    assert (resolved.json["needs_review"], resolved.json["status"]) == (False, "suppressed")
    assert gnv.post(url, json={"reason": "again"}).status_code == 409
    (event,) = _audit(world, "message.resolve")
    assert (event.entity_type, event.reason) == ("outbox_message",
                                                 "Called the participant; confirmed")
    mia = staff_client("coordinator.mia@example.org")
    assert mia.post(url, json={"reason": "not mine"}).status_code == 404
