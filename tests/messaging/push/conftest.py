"""Web Push in the messaging database tests: a VAPID pair for the run, the fake push
service, and the settings that turn push on (endpoints on 127.0.0.1 allowed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.fakes.fake_push import FakePushService
from tests.messaging.push.support import PRIVATE, PUBLIC, SUBJECT


@pytest.fixture
def fake_push() -> Iterator[FakePushService]:
    fake = FakePushService(PUBLIC)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def settings(settings, fake_push):  # type: ignore[no-untyped-def]
    return replace(settings, vapid_private_key=PRIVATE, vapid_public_key=PUBLIC,
                   vapid_subject=SUBJECT, push_endpoint_hosts=("127.0.0.1",),
                   push_timeout_seconds=3.0)
