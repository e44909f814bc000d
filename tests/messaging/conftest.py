"""Fixtures for the messaging tests.

With the app: its Twilio backend is the real twilio library pointed at `fake_twilio`, a
FakeTwilio on 127.0.0.1 whose clock is the app's clock, and `world` drives a participant
through the real services. Without the app (the sender and fake Twilio tests):
`wall_clock_twilio`, a fake on the wall clock (those modules take it as `fake_twilio`), a
real twilio-library sender pointed at it, and a local receiver standing in for the
service's webhook endpoints."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from pro_server.messaging.sms_backends import TwilioSender
from tests.fakes.fake_twilio import FakeTwilio
from tests.messaging.support import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, World

# Only an injected "timeout" may time out: a loaded CI machine can take well over half a
# second to answer on loopback, and a spurious timeout changes what the test sees.
TIMEOUT_SECONDS = 3.0
HOLD_SECONDS = TIMEOUT_SECONDS + 5.0
# Generous, so only an injected timeout times out on a loaded machine.
CLIENT_TIMEOUT = 3.0


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


@pytest.fixture
def wall_clock_twilio() -> Iterator[FakeTwilio]:
    """The fake on the wall clock, for tests without the app."""
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, hold_seconds=10.0)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def twilio_sender(fake_twilio: FakeTwilio) -> Iterator[TwilioSender]:
    """A sender pointed at the module's `fake_twilio` (the wall-clock one where it is aliased)."""
    sender = TwilioSender(
        ACCOUNT_SID,
        AUTH_TOKEN,
        messaging_service_sid=MESSAGING_SERVICE_SID,
        timeout_seconds=CLIENT_TIMEOUT,
        api_base_url=fake_twilio.base_url,
    )
    try:
        yield sender
    finally:
        sender.close()


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class WebhookReceiver:
    """Records form POSTs on 127.0.0.1 and answers 204, like the service's webhooks would."""

    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {key: values[-1] for key, values in parse_qs(raw).items()}
                with receiver._lock:
                    receiver.posts.append(ReceivedPost(self.path, dict(self.headers), form))
                    receiver._lock.notify_all()
                self.send_response(204)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedPost]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.posts) >= count, timeout):
                raise TimeoutError(f"{len(self.posts)} posts, expected {count}")
            return list(self.posts)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()
