"""A reply that may ask us to stop texting pauses SMS reminders until a coordinator resolves
it (TCPA: revocation by any reasonable means); resolving it without an opt-out resumes them."""

from __future__ import annotations

from pro_server.messaging.models import OutboxMessage
from tests.messaging.support import local

PHONE = "+13525550144"


def test_a_possible_opt_out_pauses_sms_reminders_until_resolved(world, clock, gnv):
    pid = world.enrol("GNV-241", PHONE)
    world.walk_to_day7_eve()
    world.walk(local(2026, 3, 4, 9, 0))
    assert len(world.texts_to(PHONE)) == 1  # the window opened

    world.reply(PHONE, "please don't text me anymore")
    world.walk(local(2026, 3, 5, 10, 0))
    assert len(world.texts_to(PHONE)) == 1  # the Mar 5 reminder waits for the review
    paused = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.channel == "sms",
                        OutboxMessage.purpose == "survey_reminder",
                        OutboxMessage.status != "pending")  # later days are still to come
    assert [m.status for m in paused] == ["suppressed"]
    assert paused[0].status_reason.startswith("paused: a reply that may ask us to stop")

    (flagged,) = gnv.get("/api/v1/inbound-messages?needs_review=true").json
    resolved = gnv.post(f"/api/v1/inbound-messages/{flagged['id']}/resolve",
                        json={"reason": "Called her: she meant the daily reminder, keep SMS",
                              "apply_opt_out": False})
    assert resolved.status_code == 200, resolved.json
    world.walk(local(2026, 3, 6, 10, 0))
    texts = world.texts_to(PHONE)
    assert len(texts) == 2
    assert "your survey is still waiting" in texts[-1].body
