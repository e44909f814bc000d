"""One VAPID pair for the test run, shared by the app's settings, scheduler processes and
the fake push service."""

from __future__ import annotations

from pro_server.messaging import push

PRIVATE, PUBLIC = push.generate_keys()
SUBJECT = "mailto:study-team@example.org"


def push_env() -> dict[str, str]:
    """The same for a `flask --app wsgi pro ...` process."""
    return {"VAPID_PRIVATE_KEY": PRIVATE, "VAPID_PUBLIC_KEY": PUBLIC, "VAPID_SUBJECT": SUBJECT,
            "PUSH_ENDPOINT_HOSTS": "127.0.0.1", "PUSH_TIMEOUT_SECONDS": "5"}
