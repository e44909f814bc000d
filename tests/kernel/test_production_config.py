"""Production refuses to fake: no console SMS, no fake Twilio unless a smoke test says so."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pro_server.config import ConfigError, load_settings

KEY = "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E="


def production(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"PRO_ENV": "production", "SECRET_KEY": "s" * 40, "PRO_DATA_KEYS": KEY,
            "PHONE_LOOKUP_KEY": "l" * 40, "PRO_INSTANCE_PATH": str(tmp_path), **env}


@pytest.mark.parametrize("backend", [None, "console"])
def test_production_refuses_the_console_backend(tmp_path, backend):
    env = production(tmp_path) if backend is None else production(tmp_path, SMS_BACKEND=backend)
    with pytest.raises(ConfigError, match="refuses SMS_BACKEND=console"):
        load_settings(env)


def test_production_runs_without_sms_when_told_so(tmp_path):
    assert load_settings(production(tmp_path, SMS_BACKEND="none")).sms_backend == "none"


def test_the_refusal_is_one_line_at_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SMS_BACKEND", "PRO_ENV")}
    env.update(production(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"))
    started = subprocess.run([sys.executable, "-c", "import pro_server.wsgi"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             check=False)
    assert started.returncode == 1
    assert started.stderr.strip().splitlines() == [
        "pro-server refuses to start: production refuses SMS_BACKEND=console (it only logs "
        "texts): set SMS_BACKEND=twilio, or SMS_BACKEND=none to run without SMS"]


TWILIO = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
          "TWILIO_AUTH_TOKEN": "token", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32}


@pytest.mark.parametrize(("extra", "message"), [
    ({"TWILIO_API_BASE_URL": "http://127.0.0.1:8765"}, "fake Twilio"),
    ({"TWILIO_API_BASE_URL": "http://fake.example.org:8765",
      "PRO_UNSAFE_LOOPBACK_TWILIO": "1"}, "loopback host only"),
    ({"TWILIO_API_BASE_URL": "http://127.0.0.1:8765",
      "PRO_UNSAFE_LOOPBACK_TWILIO": "yes"}, "fake Twilio"),
])
def test_production_refuses_the_fake_twilio_host(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(production(tmp_path, **TWILIO, **extra))


def test_a_smoke_test_may_point_production_at_a_loopback_fake(tmp_path, caplog):
    settings = load_settings(production(
        tmp_path, **TWILIO, TWILIO_API_BASE_URL="http://127.0.0.1:8765",
        PRO_UNSAFE_LOOPBACK_TWILIO="1"))
    assert settings.twilio_api_base_url == "http://127.0.0.1:8765"
    assert "PRO_UNSAFE_LOOPBACK_TWILIO=1" in caplog.text


def test_production_cannot_import_the_fake_twilio():
    assert importlib.util.find_spec("pro_server.messaging.fake_twilio") is None


@pytest.mark.parametrize(("extra", "message"), [
    ({"EMAIL_BACKEND": "console", "EMAIL_FROM": "team@example.org"},
     "refuses EMAIL_BACKEND=console"),
    ({"EMAIL_BACKEND": "smtp"}, "needs EMAIL_FROM"),
    ({"EMAIL_BACKEND": "smtp", "EMAIL_FROM": "team@example.org"}, "needs SMTP_HOST"),
    ({"EMAIL_BACKEND": "smtp", "EMAIL_FROM": "team@example.org", "SMTP_HOST": "mail.example.org",
      "SMTP_SECURITY": "none"}, "only to a relay on this machine"),
    ({"EMAIL_BACKEND": "post"}, "EMAIL_BACKEND must be one of none, console, smtp"),
])
def test_email_is_sent_properly_or_not_at_all(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(production(tmp_path, SMS_BACKEND="none", **extra))
    ready = production(tmp_path, SMS_BACKEND="none", EMAIL_BACKEND="smtp",
                       EMAIL_FROM="Study team <team@example.org>", SMTP_HOST="mail.example.org")
    assert load_settings(ready).smtp_security == "starttls"
