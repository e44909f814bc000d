"""The email settings shared by the app's tests and scheduler processes."""

from __future__ import annotations

from tests.fakes.fake_smtp import FakeSmtp

EMAIL_FROM = "Study team <study-team@pro.example.org>"


def email_env(fake: FakeSmtp) -> dict[str, str]:
    """The same for a `flask --app wsgi pro ...` process."""
    return {"EMAIL_BACKEND": "smtp", "EMAIL_FROM": EMAIL_FROM, "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(fake.port), "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT_SECONDS": "5"}
