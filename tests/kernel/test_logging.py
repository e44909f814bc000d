"""Log lines carry the id of the request they were written in, the one its response's
X-Request-ID header shows, so an operator can find every line of one request."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from pro_server import create_app


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What a root log handler writes, in a format that shows each record's request id."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("[%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_log_line_written_during_a_request_carries_its_id(
        log_lines, settings, clock, engine):
    app = create_app(settings, clock=clock, engine=engine)  # sets up logging as in production
    response = app.test_client().post("/webhooks/twilio/status", data={"MessageSid": "SM1"},
                                      headers={"X-Request-ID": "support-ticket-4711"})
    assert response.status_code == 403
    assert response.headers["X-Request-ID"] == "support-ticket-4711"
    (line,) = [line for line in log_lines.getvalue().splitlines() if "refused" in line]
    assert line.startswith("[support-ticket-4711] pro_server.messaging.webhooks: ")

    logging.getLogger("pro_server.jobs").warning("outside any request")
    assert "[-] pro_server.jobs: outside any request" in log_lines.getvalue()
