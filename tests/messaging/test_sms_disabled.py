"""SMS_BACKEND=none: the service runs without texts, and says so; never 'sent'."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.messaging.support import local

PHONE = "+13525550181"
SMS_DISABLED = "not sent (SMS disabled)"  # what staff read in the message log


@pytest.fixture
def settings(settings):
    return replace(settings, sms_backend="none")


def test_texts_are_recorded_as_not_sent_and_the_log_says_why(world, clock, gnv):
    pid = world.enrol("GNV-601", PHONE)
    clock.set(local(2026, 3, 4, 10, 0))
    world.dispatch()

    assert world.fake.messages == []
    texts = gnv.get(f"/api/v1/messages?participant_id={pid}&channel=sms&page_size=100").json
    due = [m for m in texts if m["status"] not in ("pending", "cancelled", "suppressed")]
    assert [(m["purpose"], m["status"], m["status_reason"], m["sent_at"]) for m in due] == [
        ("window_opened", "not_sent", SMS_DISABLED, None)]
    assert gnv.get(f"/api/v1/messages?participant_id={pid}&channel=sms&status=sent").json == []
    listed = gnv.get(f"/api/v1/messages?participant_id={pid}&status=not_sent").json
    assert [m["id"] for m in listed] == [due[0]["id"]]
    # The next day's reminder goes the same way; the first one stays as it was.
    clock.set(local(2026, 3, 5, 10, 0))
    world.dispatch()
    assert world.fake.messages == []
    again = gnv.get(f"/api/v1/messages?participant_id={pid}&status=not_sent").json
    assert {m["purpose"] for m in again} == {"window_opened", "survey_reminder"}
    assert due[0]["id"] in {m["id"] for m in again}
    texts = gnv.get(f"/api/v1/messages?participant_id={pid}&channel=sms&page_size=100").json
    assert all(m["status"] != "sent" for m in texts)
