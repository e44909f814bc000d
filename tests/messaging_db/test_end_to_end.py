"""A participant walked through an infusion: reminders arrive at the right local times, never
in quiet hours, none after completion; a 07:30 reminder goes at 09:00; local times hold
across the DST change (2026-03-08 in New York). Counted at the fake Twilio."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from pro_server.messaging.models import OutboxMessage
from pro_server.participant_web.models import ParticipantLink
from pro_server.schedule.models import Assessment
from tests.messaging_db.support import NEW_YORK, SITE_PHONE, local

EN, ES, EARLY = "+13525550131", "+13525550132", "+13525550133"


def _local_times(world, phone: str) -> list[datetime]:
    return [m.date_created.astimezone(NEW_YORK).replace(tzinfo=None)
            for m in world.texts_to(phone)]


def test_a_participant_is_reminded_through_an_infusion_window(world, clock):
    # Infusion 1 on Fri 2026-02-27: the Day 7 window is Mar 4..8 (local days), Mar 8 is DST.
    completer = world.enrol("GNV-101", EN)
    world.enrol("GNV-102", ES, language="es", reminder_time="18:30")
    world.enrol("GNV-103", EARLY, reminder_time="07:30")

    def complete_on_march_6(now: datetime) -> None:
        if now == local(2026, 3, 6, 12, 0):
            world.submit_survey(completer, "INF1_D7")

    world.walk(local(2026, 3, 10, 0, 0), on_step=complete_on_march_6)

    # The completer: opened, two daily reminders, then the survey was done: nothing more.
    assert _local_times(world, EN) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 10, 0), datetime(2026, 3, 6, 10, 0)]
    # Never completed, reminder time 18:30: three daily reminders and the last day, the
    # last one after the change to daylight saving time still at 18:30 local.
    assert _local_times(world, ES) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 18, 30), datetime(2026, 3, 6, 18, 30),
        datetime(2026, 3, 7, 18, 30), datetime(2026, 3, 8, 18, 30)]
    # Reminder time 07:30 is in quiet hours: each goes at 09:00, before and after DST.
    assert _local_times(world, EARLY) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 9, 0), datetime(2026, 3, 6, 9, 0),
        datetime(2026, 3, 7, 9, 0), datetime(2026, 3, 8, 9, 0)]
    assert [m.date_created.hour for m in world.texts_to(EARLY)] == [14, 14, 14, 14, 13]  # UTC

    # Nothing at the fake in quiet hours, for anyone.
    for message in world.fake.messages:
        hour = message.date_created.astimezone(NEW_YORK)
        assert 9 <= hour.hour < 20, (message.to, hour)

    texts = [m.body for m in world.texts_to(EN)]
    print("\n".join(["", *texts, *[m.body for m in world.texts_to(ES)][:2]]))
    assert texts[0].startswith("Study Check-in: a new survey is ready for you.")
    assert "Reply STOP to opt out" in texts[0]  # the first message says how to opt out
    assert "Reply STOP" not in texts[1]
    assert all(SITE_PHONE in t and f"{world.settings.public_base_url}/p#" in t for t in texts)
    assert "cuestionario" in world.texts_to(ES)[1].body

    with world.session() as session:
        day7 = session.scalar(select(Assessment.id).where(
            Assessment.participant_id == completer, Assessment.code == "INF1_D7"))
    rows = world.rows(OutboxMessage.target_kind == "assessment", OutboxMessage.target_id == day7,
                      OutboxMessage.channel == "sms")
    assert Counter((r.purpose, r.status, r.status_reason) for r in rows) == {
        ("window_opened", "sent", None): 1, ("survey_reminder", "sent", None): 2,
        ("survey_reminder", "cancelled", "survey completed"): 1,  # Mar 7
        ("last_day", "cancelled", "survey completed"): 1}  # Mar 8
    sent = world.rows(OutboxMessage.participant_id == completer, OutboxMessage.channel == "sms",
                      OutboxMessage.status == "sent")
    assert {r.provider_message_id for r in sent} == {m.sid for m in world.texts_to(EN)}
    for r in sent:  # the link's token is never stored; only its hash, in participant_link
        assert "[link]" in r.body_redacted
        assert "/p#" not in r.body_redacted
    # The web channel shows the same notices on the participant's page.
    web = world.rows(OutboxMessage.participant_id == completer, OutboxMessage.channel == "web",
                     OutboxMessage.status == "sent")
    assert [r.purpose for r in web] == ["window_opened", "survey_reminder", "survey_reminder"]
    with world.session() as session:
        links = session.scalar(select(func.count()).select_from(ParticipantLink).where(
            ParticipantLink.participant_id == completer))
    assert links == 3

