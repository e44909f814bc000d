"""Messaging with the database: the app's Twilio backend is the real twilio library pointed
at a FakeTwilio on 127.0.0.1 whose clock is the app's clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.messaging_db.support import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, World

# Only an injected "timeout" may time out: a loaded CI machine can take well over half a
# second to answer on loopback, and a spurious timeout changes what the test sees.
TIMEOUT_SECONDS = 3.0
HOLD_SECONDS = TIMEOUT_SECONDS + 5.0


@pytest.fixture
def fake_twilio(clock) -> Iterator[FakeTwilio]:
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, hold_seconds=HOLD_SECONDS,
                      clock=clock.now)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def settings(settings, fake_twilio):
    return replace(
        settings, sms_backend="twilio", twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base_url=fake_twilio.base_url, twilio_timeout_seconds=TIMEOUT_SECONDS,
    )


@pytest.fixture
def world(app, demo, ctx_factory, clock, fake_twilio) -> Iterator[World]:
    world = World(app, ctx_factory, clock, fake_twilio)
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def gnv(staff_client):
    return staff_client("coordinator.gnv@example.org")
