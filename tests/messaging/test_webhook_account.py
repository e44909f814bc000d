"""Twilio's webhooks are for this service's account only, and a delivery report that meets a
locked SQLite is retried rather than lost with a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from pro_server.messaging import inbound
from pro_server.messaging.models import OutboxMessage
from pro_server.messaging.webhooks import INBOUND_PATH
from tests.messaging.support import SERVICE_NUMBER, local

PHONE = "+13525550143"
OTHER_ACCOUNT = "AC" + "0f" * 16


def test_a_correctly_signed_callback_for_another_account_is_refused(world, clock):
    pid = world.enrol("GNV-231", PHONE)
    world.walk(local(2026, 3, 4, 9, 0))
    (sent,) = world.texts_to(PHONE)
    stop = world.fake.build_inbound(PHONE, "STOP", SERVICE_NUMBER,
                                    world.settings.public_base_url + INBOUND_PATH)
    status = world.fake.build_status_callback(sent.sid, "failed", 30006)
    for genuine in (stop, status):
        url = genuine.url
        forged = world.fake.sign(url, {**genuine.params, "AccountSid": OTHER_ACCOUNT})
        assert world.post(forged).status_code == 403
    assert world.inbound() == []
    assert world.participant(pid).sms_opted_out_at is None
    (row,) = world.rows(OutboxMessage.provider_message_id == sent.sid)
    assert row.status == "sent"


def test_a_status_callback_meeting_a_locked_sqlite_is_retried_and_kept(
        world, clock, monkeypatch, database):
    if database.backend != "sqlite":
        pytest.skip("only SQLite refuses a read transaction's upgrade to a write at once")
    world.enrol("GNV-232", PHONE)
    world.walk(local(2026, 3, 4, 9, 0))
    (sent,) = world.texts_to(PHONE)
    real, refusals = inbound.record_status, []

    def locked_twice(*args, **kwargs):  # what SQLite says while another writer commits
        if len(refusals) < 2:
            refusals.append(1)
            raise OperationalError("UPDATE outbox_message", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound, "record_status", locked_twice)
    assert world.report(sent.sid, "delivered").status_code == 204
    assert len(refusals) == 2
    (row,) = world.rows(OutboxMessage.provider_message_id == sent.sid)
    assert row.status == "delivered"
