"""Email in the messaging database tests: the fake mail server (aiosmtpd on 127.0.0.1) and
the settings that send through it with the real smtplib."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.fakes.fake_smtp import FakeSmtp
from tests.messaging.mail.support import EMAIL_FROM


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    fake = FakeSmtp()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def settings(settings, fake_smtp):  # type: ignore[no-untyped-def]
    return replace(settings, email_backend="smtp", email_from=EMAIL_FROM,
                   smtp_host="127.0.0.1", smtp_port=fake_smtp.port, smtp_security="none",
                   smtp_timeout_seconds=3.0)
