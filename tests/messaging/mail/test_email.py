"""Reminders by email through the real smtplib against an aiosmtpd server on 127.0.0.1:
what arrives (EN/ES, headers), the one-click unsubscribe (RFC 8058), a bounce (550) and a
complaint (554 5.7.1) falling back to SMS, a temporary refusal (451) retried."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, text

from pro_server.audit.models import AuditEvent
from pro_server.messaging import mail, outbox
from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant
from tests.messaging.mail.support import EMAIL_FROM
from tests.messaging.support import local


def _enrol(world, key: str, phone: str | None, channels: str, address: str | None, *,
           language: str = "en") -> int:
    pid = world.enrol(key, phone, language=language)
    with world.session() as session:
        p = session.get(Participant, pid)
        p.email, p.reminder_channels = address, channels
        session.commit()
    world.change(lambda ctx: outbox.replan_participant(ctx, ctx.session.get(Participant, pid)))
    return pid


def _opened(world, pid: int) -> list[OutboxMessage]:
    """The Day 7 window-opened messages (the window opens on Mar 4), email before SMS."""
    rows = world.rows(OutboxMessage.participant_id == pid,
                      OutboxMessage.purpose == "window_opened",
                      OutboxMessage.due_at >= local(2026, 3, 4, 0, 0),
                      OutboxMessage.due_at < local(2026, 3, 5, 0, 0),
                      OutboxMessage.channel != "web", OutboxMessage.status != "cancelled")
    return sorted(rows, key=lambda r: r.channel)


def test_email_first_arrives_at_the_mail_server_in_the_participants_language(
        world, clock, fake_smtp):
    en = _enrol(world, "GNV-801", "+13525550801", "email,sms", "pat.one@example.com")
    es = _enrol(world, "GNV-802", "+13525550802", "email,sms", "ana.dos@example.com",
                language="es")
    world.walk(local(2026, 3, 4, 10, 30))  # the Day 7 window opens on Mar 4
    for pid, address, subject, line in (
            (en, "pat.one@example.com", ": a new survey is ready for you",
             "a new survey is ready for you. Please complete it by"),
            (es, "ana.dos@example.com", ": tiene un cuestionario nuevo",
             "tiene un cuestionario nuevo. Puede completarlo hasta el")):
        (row,) = _opened(world, pid)
        assert (row.channel, row.status) == ("email", "sent")
        (msg,) = fake_smtp.to(address)
        assert msg["From"] == EMAIL_FROM
        assert msg["Subject"].endswith(subject)
        assert msg["Message-ID"] == row.provider_message_id == \
            f"<pro-outbox-{row.id}@pro.example.org>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Unsubscribe"].startswith(
            f"<{world.settings.public_base_url}/e/unsubscribe/")
        # On the wire as RFC 2369 wants it (no encoded-word a mail program cannot read).
        (raw,) = [r for r in fake_smtp.raw if address.encode() in r]
        assert f"List-Unsubscribe: {msg['List-Unsubscribe']}\r\n".encode() in raw
        body = msg.get_content()
        assert line in body
        assert f"{world.settings.public_base_url}/p#" in body  # the participant's link
        assert "[link]" in row.body_redacted
        assert "/e/unsubscribe/" not in row.body_redacted
        assert "score" not in body.lower()
    (es_msg,) = fake_smtp.to("ana.dos@example.com")
    assert "¿Preguntas? Llame al" in es_msg.get_content()
    assert "Para no recibir más recordatorios por correo" in es_msg.get_content()
    page = world.client.get(es_msg["List-Unsubscribe"].strip("<>").removeprefix(
        world.settings.public_base_url))  # the confirmation page, in the participant's language
    assert "Dejar de recibir recordatorios por correo" in page.get_data(as_text=True)
    assert world.texts_to("+13525550801") == world.texts_to("+13525550802") == []
    with world.session() as session:  # the address is encrypted at rest
        raw = session.execute(text("SELECT email FROM participant WHERE id = :id"),
                              {"id": en}).scalar()
    assert "pat.one" not in raw


def test_one_click_unsubscribe_stops_email_and_the_next_reminder_goes_by_sms(
        world, app, clock, fake_smtp):
    phone = "+13525550803"
    pid = _enrol(world, "GNV-803", phone, "email,sms", "pat.three@example.com")
    world.walk(local(2026, 3, 4, 10, 30))
    (msg,) = fake_smtp.to("pat.three@example.com")
    url = msg["List-Unsubscribe"].strip("<>")
    path = url.removeprefix(world.settings.public_base_url)
    client = app.test_client()  # no login, no CSRF token: a mail program
    page = client.get(path)  # a mail scanner's prefetch changes nothing
    assert page.status_code == 200
    assert b"<button" in page.data
    assert world.participant(pid).email_flag is None
    assert client.post(path.replace("/e/unsubscribe/", "/e/unsubscribe/x"),
                       data={"List-Unsubscribe": "One-Click"}).status_code == 404
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert b"no longer get study reminders by email" in done.data
    p = world.participant(pid)
    assert (p.email_flag, p.reminder_channels) == ("unsubscribed", "sms")
    world.walk(local(2026, 3, 6, 10, 30))  # the survey reminders that follow
    later = world.rows(OutboxMessage.participant_id == pid,
                       OutboxMessage.purpose != "window_opened",
                       OutboxMessage.channel != "web",
                       OutboxMessage.status.in_(("sent", "suppressed", "failed")))
    assert later
    assert {r.channel for r in later} == {"sms"}
    assert len(fake_smtp.to("pat.three@example.com")) == 1
    assert len(world.texts_to(phone)) == len(later)
    with world.session() as session:
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "participant.email_unsubscribed"))
    assert event is not None
    assert event.actor_type == "participant"
    assert "pat.three" not in str(event.after)


def test_a_bounce_and_a_complaint_are_recorded_and_the_reminder_goes_by_sms_once(
        world, clock, fake_smtp):
    bounced = _enrol(world, "GNV-804", "+13525550804", "email,sms", "gone@example.com")
    spam = _enrol(world, "GNV-805", "+13525550805", "email,sms", "strict@example.com")
    fake_smtp.refuse["gone@example.com"] = "550 5.1.1 No such user"
    fake_smtp.refuse_data["strict@example.com"] = "554 5.7.1 Message refused as spam"
    world.walk(local(2026, 3, 4, 12, 0))
    for pid, phone, code, flag in ((bounced, "+13525550804", "550", "bounced"),
                                   (spam, "+13525550805", "554", "complaint")):
        emailed, texted = _opened(world, pid)
        assert (emailed.channel, emailed.status, emailed.last_error_code) == (
            "email", "failed", code)
        assert emailed.status_reason == f"{flag} (SMTP {code}); sent by SMS instead"
        assert (texted.channel, texted.status, texted.fallback_of_id) == (
            "sms", "sent", emailed.id)
        assert len(world.texts_to(phone)) == 1
        assert world.participant(pid).email_flag == flag
    assert fake_smtp.messages == []  # neither was taken
    # The next email to the bounced address is not tried: SMS straight away, with why.
    (now,) = world.change(lambda ctx: [r.id for r in outbox.queue_remind_now(
        ctx, ctx.session.get(Participant, bounced)) if r.channel == "email"])
    world.dispatch()
    (skipped,) = world.rows(OutboxMessage.id == now)
    assert skipped.status_reason == "the email address bounced; sent by SMS instead"
    assert len(world.texts_to("+13525550804")) == 2


def test_a_temporary_refusal_is_retried_later_and_delivered_once(world, clock, fake_smtp):
    pid = _enrol(world, "GNV-806", "+13525550806", "email,sms", "busy@example.com")
    fake_smtp.refuse["busy@example.com"] = "451 4.3.0 Mailbox busy, try again later"
    world.walk(local(2026, 3, 4, 10, 0))
    (row,) = _opened(world, pid)
    assert (row.status, row.last_error_code) == ("pending", "451")
    assert "retrying" in row.status_reason
    del fake_smtp.refuse["busy@example.com"]
    world.walk(local(2026, 3, 4, 12, 0), step=timedelta(minutes=5))
    (row,) = _opened(world, pid)
    assert row.status == "sent"
    assert row.attempts > 1
    assert len(fake_smtp.to("busy@example.com")) == 1
    assert world.texts_to("+13525550806") == []


def test_staff_choose_email_only_with_an_address_and_the_console_logs_no_contact_data(
        world, gnv, caplog):
    assert gnv.get("/api/v1/reminder-channels").json == {"available": ["sms", "email"]}
    pid = world.enrol("GNV-807", "+13525550807")
    refused = gnv.patch(f"/api/v1/participants/{pid}", json={"reminder_channels": ["email"]})
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["reminder_channels"] == [
        "Email reminders need an email address"]
    bad = gnv.patch(f"/api/v1/participants/{pid}", json={"email": "not an address"})
    assert bad.status_code == 422
    assert "email" in bad.json["errors"]["json"]
    ok = gnv.patch(f"/api/v1/participants/{pid}", json={
        "email": "pat.seven@example.com", "reminder_channels": ["email", "sms"]})
    assert ok.status_code == 200
    assert ok.json["reminder_channels"] == ["email", "sms"]
    console = mail.ConsoleEmailSender()
    msg = mail.compose(row_id=7, to="pat.seven@example.com", email_from=EMAIL_FROM,
                       subject_text="S", text="the body", unsubscribe_url="http://x/e/u/t",
                       at=local(2026, 3, 4, 10, 0))
    with caplog.at_level(logging.INFO, logger="pro_server"):
        console.send(msg)
    assert "<pro-outbox-7@pro.example.org>" in caplog.text
    assert "pat.seven" not in caplog.text
    assert "the body" not in caplog.text
