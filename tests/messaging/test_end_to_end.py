"""A participant walked through an infusion (its Day 7 and Day 30 survey windows): reminders
arrive at the right local times, never in quiet hours, none after completion, at most three
daily reminders per window; a 07:30 reminder goes at 09:00; local times hold across the DST
change (2026-03-08 in New York). Counted at the fake Twilio."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import ParticipantLink
from pro_server.schedule.models import Assessment
from tests.messaging.support import NEW_YORK, SITE_PHONE, local

EN, ES, EARLY = "+13525550131", "+13525550132", "+13525550133"


def _local_times(world, phone: str) -> list[datetime]:
    return [m.date_created.astimezone(NEW_YORK).replace(tzinfo=None)
            for m in world.texts_to(phone)]


def test_a_participant_is_reminded_through_an_infusion(world, clock):
    # Infusion 1 on Fri 2026-02-27: the Day 7 window is Mar 4..8 (local days), Mar 8 is DST;
    # the Day 30 window is Mar 25..Apr 2.
    completer = world.enrol("GNV-101", EN)
    world.enrol("GNV-102", ES, language="es", reminder_time="18:30")
    world.enrol("GNV-103", EARLY, reminder_time="07:30")

    completions = {local(2026, 3, 6, 12, 0): "INF1_D7", local(2026, 3, 26, 9, 30): "INF1_D30"}

    def complete(now: datetime) -> None:
        if now in completions:
            world.submit_survey(completer, completions[now])

    # The jobs run every 30 minutes through each window (and the nights after), every 6
    # hours where nothing is due: a message due there would still be sent, at a wrong time.
    quiet = timedelta(hours=6)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 9, 4, 0), on_step=complete)
    world.walk(local(2026, 3, 24, 22, 0), step=quiet)
    world.walk(local(2026, 4, 4, 0, 0), on_step=complete)

    # The completer: Day 7 opened, two daily reminders, then the survey was done: nothing
    # more; Day 30 opened, done the next morning before its 10:00 reminder: nothing more.
    assert _local_times(world, EN) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 10, 0), datetime(2026, 3, 6, 10, 0),
        datetime(2026, 3, 25, 9, 0)]
    # Never completed, reminder time 18:30: three daily reminders (the most there are) and
    # the last day, after the change to daylight saving time still at 18:30 local.
    assert _local_times(world, ES) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 18, 30), datetime(2026, 3, 6, 18, 30),
        datetime(2026, 3, 7, 18, 30), datetime(2026, 3, 8, 18, 30),
        datetime(2026, 3, 25, 9, 0), datetime(2026, 3, 26, 18, 30), datetime(2026, 3, 27, 18, 30),
        datetime(2026, 3, 28, 18, 30), datetime(2026, 4, 2, 18, 30)]
    # Reminder time 07:30 is in quiet hours: each goes at 09:00, before and after DST.
    assert _local_times(world, EARLY) == [
        datetime(2026, 3, 4, 9, 0), datetime(2026, 3, 5, 9, 0), datetime(2026, 3, 6, 9, 0),
        datetime(2026, 3, 7, 9, 0), datetime(2026, 3, 8, 9, 0),
        datetime(2026, 3, 25, 9, 0), datetime(2026, 3, 26, 9, 0), datetime(2026, 3, 27, 9, 0),
        datetime(2026, 3, 28, 9, 0), datetime(2026, 4, 2, 9, 0)]
    assert [m.date_created.hour for m in world.texts_to(EARLY)] == [14] * 4 + [13] * 6  # UTC

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
    # How to opt out: on the first message, then on every fifth (the protocol's N = 5).
    assert [("Reply STOP" in m.body) for m in world.texts_to(EARLY)] == [True, *[False] * 4] * 2

    with world.session() as session:
        day7, day30 = (session.scalar(select(Assessment.id).where(
            Assessment.participant_id == completer, Assessment.code == code))
            for code in ("INF1_D7", "INF1_D30"))

    def outcomes(assessment_id: int) -> Counter:
        return Counter((r.purpose, r.status, r.status_reason) for r in world.rows(
            OutboxMessage.target_kind == "assessment", OutboxMessage.target_id == assessment_id,
            OutboxMessage.channel == "sms"))

    assert outcomes(day7) == {
        ("window_opened", "sent", None): 1, ("survey_reminder", "sent", None): 2,
        ("survey_reminder", "cancelled", "survey completed"): 1,  # Mar 7
        ("last_day", "cancelled", "survey completed"): 1}  # Mar 8
    assert outcomes(day30) == {
        ("window_opened", "sent", None): 1,
        ("survey_reminder", "cancelled", "survey completed"): 3,  # Mar 26, 27, 28
        ("last_day", "cancelled", "survey completed"): 1}  # Apr 2
    sent = world.rows(OutboxMessage.participant_id == completer, OutboxMessage.channel == "sms",
                      OutboxMessage.status == "sent")
    assert {r.provider_message_id for r in sent} == {m.sid for m in world.texts_to(EN)}
    for r in sent:  # the link's token is never stored; only its hash, in participant_link
        assert "[link]" in r.body_redacted
        assert "/p#" not in r.body_redacted
    # The web channel shows the same notices on the participant's page.
    web = world.rows(OutboxMessage.participant_id == completer, OutboxMessage.channel == "web",
                     OutboxMessage.status == "sent")
    assert [r.purpose for r in web] == [
        "window_opened", "survey_reminder", "survey_reminder", "window_opened"]
    with world.session() as session:
        links = session.scalar(select(func.count()).select_from(ParticipantLink).where(
            ParticipantLink.participant_id == completer))
    assert links == 4

