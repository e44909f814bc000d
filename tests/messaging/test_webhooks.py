"""Twilio's webhooks: STOP / START / HELP (and Spanish), signatures, delivery reports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from pro_server.audit.models import AuditEvent
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.webhooks import INBOUND_PATH
from tests.fakes.fake_twilio import SignedRequest
from tests.messaging.support import SERVICE_NUMBER, SITE_PHONE, local

EN, ES = "+13525550141", "+13525550142"


def _sms(world, pid, *conditions):
    return world.rows(OutboxMessage.participant_id == pid, OutboxMessage.channel == "sms",
                      *conditions)


def _audit(world, action):
    with world.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id)))


def test_stop_stops_all_sms_and_start_resumes(world, clock, gnv):
    pid = world.enrol("GNV-201", EN)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 9, 0))
    assert len(world.texts_to(EN)) == 1  # the window opened

    response = world.reply(EN, "Stop")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert world.participant(pid).sms_opted_out_at == clock.now()
    (inbound,) = world.inbound()
    assert (inbound.kind, inbound.participant_id, inbound.needs_review) == ("stop", pid, False)
    assert inbound.body == "Stop"
    # Twilio answers its own STOP keyword: no confirmation of ours on top.
    assert _sms(world, pid, OutboxMessage.target_kind == "participant") == []

    world.walk(local(2026, 3, 5, 10, 0))
    assert len(world.texts_to(EN)) == 1  # the Mar 5 reminder was not sent...
    listed = gnv.get(f"/api/v1/messages?participant_id={pid}&status=suppressed&channel=sms")
    assert listed.status_code == 200
    reasons = {m["purpose"]: m["status_reason"] for m in listed.json}
    # ...and staff see why.
    assert reasons["survey_reminder"].startswith("participant opted out of SMS (STOP)")
    assert gnv.get(f"/api/v1/participants/{pid}").json["sms_opted_out_at"] is not None
    (event,) = _audit(world, "participant.sms_opt_out")
    assert (event.actor_type, event.entity_id) == ("participant", str(pid))
    assert event.after["source"] == "SMS reply 'Stop'"

    assert world.reply(EN, "START").status_code == 200
    assert world.participant(pid).sms_opted_out_at is None
    world.walk(local(2026, 3, 6, 10, 0))
    texts = world.texts_to(EN)
    assert len(texts) == 2
    assert "your survey is still waiting" in texts[-1].body
    assert len(_audit(world, "participant.sms_opt_in")) == 1


def test_a_spanish_stop_word_gets_one_confirmation_and_stops_reminders(world, clock):
    pid = world.enrol("GNV-202", ES, language="es")
    clock.set(local(2026, 3, 4, 12, 0))
    world.dispatch()
    assert world.reply(ES, "Baja").status_code == 200
    world.dispatch()
    texts = world.texts_to(ES)
    assert len(texts) == 2
    assert texts[1].body.startswith("Study Check-in: ya no le enviaremos mensajes.")
    world.walk(local(2026, 3, 6, 12, 0))
    assert len(world.texts_to(ES)) == 2
    due = _sms(world, pid, OutboxMessage.purpose == "survey_reminder",
               OutboxMessage.due_at <= clock.now())
    assert [r.status for r in due] == ["suppressed", "suppressed"]


def test_help_answers_with_the_site_contact_even_at_night(world, clock):
    world.enrol("GNV-203", EN)
    world.enrol("GNV-204", ES, language="es")
    clock.set(local(2026, 3, 4, 22, 30))  # quiet hours: a reply to a question still goes
    world.reply(EN, "help")
    world.reply(ES, "Ayuda")
    world.dispatch()
    (english,) = world.texts_to(EN)
    (spanish,) = world.texts_to(ES)
    assert english.body.startswith(f"Study Check-in: for help, call {SITE_PHONE}.")
    assert spanish.body.startswith(f"Study Check-in: si necesita ayuda, llame al {SITE_PHONE}.")
    assert [i.kind for i in world.inbound()] == ["help", "help"]


def test_a_forged_webhook_gets_403_and_changes_nothing(world, clock):
    pid = world.enrol("GNV-205", EN)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 9, 0))
    (sent,) = world.texts_to(EN)
    public_url = world.settings.public_base_url + INBOUND_PATH
    params = {"MessageSid": "SM" + "e5" * 16, "AccountSid": world.fake.account_sid,
              "From": EN, "To": SERVICE_NUMBER, "Body": "STOP"}

    def signed(url: str, token: str, **changes: str) -> SignedRequest:
        signature = RequestValidator(token).compute_signature(url, params)
        return SignedRequest(public_url, {**params, **changes},
                             {"X-Twilio-Signature": signature})

    forgeries = [
        signed(public_url, "not-the-auth-token"),
        signed(public_url, world.fake.auth_token, Body="START"),  # altered after signing
        # What a naive check against request.url would accept (not the public URL):
        signed("http://localhost" + INBOUND_PATH, world.fake.auth_token),
        SignedRequest(public_url, params, {}),  # no signature at all
    ]
    for forged in forgeries:
        assert world.post(forged, headers=forged.headers).status_code == 403
    status = world.fake.build_status_callback(sent.sid, "failed", 30006)
    assert world.post(status, headers={"X-Twilio-Signature": "AAAA"}).status_code == 403

    assert world.inbound() == []
    p = world.participant(pid)
    assert (p.sms_opted_out_at, p.phone_flag) == (None, None)
    (row,) = _sms(world, pid, OutboxMessage.provider_message_id == sent.sid)
    assert row.status == "sent"
    # The genuine one, signed for the public URL, is accepted.
    assert world.post(signed(public_url, world.fake.auth_token)).status_code == 200
    assert world.participant(pid).sms_opted_out_at is not None


def test_the_same_inbound_message_twice_is_handled_once(world, clock):
    world.enrol("GNV-206", EN)
    request = world.fake.build_inbound(EN, "HELP", SERVICE_NUMBER,
                                       world.settings.public_base_url + INBOUND_PATH)
    assert world.post(request).status_code == 200
    assert world.post(request).status_code == 200
    clock.set(local(2026, 3, 4, 12, 0))
    world.dispatch()
    assert len(world.inbound()) == 1
    assert len(world.texts_to(EN)) == 2  # the window-opened notice and one HELP answer


def test_status_callbacks_out_of_order_leave_the_latest_state(world, clock):
    pid = world.enrol("GNV-207", EN)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 9, 0))
    (message,) = world.texts_to(EN)
    assert world.report(message.sid, "delivered").status_code == 204
    delivered_at = clock.now()
    clock.advance(timedelta(minutes=5))
    for late in ("sent", "queued", "sending", "delivered", "undelivered", "failed"):
        assert world.report(message.sid, late).status_code == 204
    (row,) = _sms(world, pid, OutboxMessage.provider_message_id == message.sid)
    assert (row.status, row.delivered_at, row.sent_at) == (
        "delivered", delivered_at, local(2026, 3, 4, 9, 0))
    unknown = world.fake.sign(world.fake.get(message.sid).status_callback.split("?")[0],
                              {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered",
                               "AccountSid": world.fake.account_sid})
    assert world.post(unknown).status_code == 204  # a message the service never sent: ignored


def test_a_report_arriving_before_the_send_call_returns_is_kept(world, clock):
    pid = world.enrol("GNV-208", EN)
    clock.set(local(2026, 3, 4, 12, 0))
    world.fake.on_message = lambda m: world.report(m.sid, "delivered")  # inside the create call
    world.dispatch()
    (message,) = world.texts_to(EN)
    (row,) = _sms(world, pid, OutboxMessage.provider_message_id == message.sid)
    assert (row.status, row.purpose) == ("delivered", "window_opened")


def test_unreachable_handset_gets_a_limited_retry(world, clock):
    pid = world.enrol("GNV-209", EN)
    clock.set(local(2026, 3, 4, 12, 0))
    world.dispatch()
    (first,) = world.texts_to(EN)
    world.report(first.sid, "undelivered", 30003)
    (row,) = _sms(world, pid, OutboxMessage.purpose == "window_opened",
                  OutboxMessage.attempts > 0)
    assert (row.status, row.last_error_code, row.provider_message_id) == ("pending", "30003", None)
    assert row.next_attempt_at > clock.now()
    world.report(first.sid, "undelivered", 30003)  # repeated report of the old attempt
    clock.set(row.next_attempt_at)
    world.dispatch()
    second = world.texts_to(EN)[1]
    world.report(second.sid, "delivered")
    (row,) = _sms(world, pid, OutboxMessage.id == row.id)
    assert (row.status, row.attempts, row.provider_message_id) == ("delivered", 2, second.sid)
    assert len(world.texts_to(EN)) == 2


def test_a_number_that_cannot_receive_sms_is_flagged_for_staff(world, clock):
    pid = world.enrol("GNV-210", EN)
    clock.set(local(2026, 3, 4, 12, 0))
    world.dispatch()
    (first,) = world.texts_to(EN)
    world.report(first.sid, "undelivered", 30006)  # landline
    (row,) = _sms(world, pid, OutboxMessage.provider_message_id == first.sid)
    assert (row.status, row.needs_review) == ("undelivered", True)
    assert world.participant(pid).phone_flag == "invalid_number"
    world.walk(local(2026, 3, 5, 10, 0))
    assert len(world.texts_to(EN)) == 1
    (reminder,) = _sms(world, pid, OutboxMessage.purpose == "survey_reminder",
                       OutboxMessage.status == "suppressed")
    assert reminder.status_reason == "phone number flagged for staff: invalid_number"
