"""Every setting the service reads, from environment variables, in one place.

The README's configuration table documents each variable below. A development
configuration may generate its secrets and keep them under `instance/` (with a warning);
a production configuration refuses to start without real ones.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from pro_server.crypto import MIN_LOOKUP_KEY_LENGTH, Keyring

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production", "test")
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
# `make run PORT=...` (.ci/serve) writes the URL it serves here, so that in development the
# links of every process (scheduler, `pro participant-link`) point to the port really served.
SERVED_URL_FILE = "served-url"
SMS_BACKENDS = ("console", "twilio", "none")
# Email reminders (messaging.email): off unless EMAIL_BACKEND names a backend.
EMAIL_BACKENDS = ("none", "console", "smtp")
SMTP_SECURITY = ("starttls", "ssl", "none")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which variable and why."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    data_keys: tuple[str, ...] = ()
    phone_lookup_key: str = ""
    trusted_proxies: int = 0
    login_lockout_failures: int = 10
    public_base_url: str = "http://127.0.0.1:5000"
    instance_path: Path = Path("instance")  # load_settings makes it absolute
    sms_backend: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""
    twilio_api_base_url: str = ""
    # Smoke tests of a production install only: let TWILIO_API_BASE_URL point production at
    # the fake Twilio on this machine's loopback interface.
    unsafe_loopback_twilio: bool = False
    twilio_timeout_seconds: float = 10.0
    twilio_error_policy: str = ""  # JSON, see messaging.provider_errors.ErrorPolicy.from_config
    # Web Push (messaging.push): VAPID keys (`pro vapid generate`), base64url; without
    # them push is off and no participant can choose it.
    vapid_private_key: str = ""
    vapid_public_key: str = ""
    vapid_subject: str = ""  # mailto: or https: contact the push services may use
    # Hosts a push subscription's endpoint may name (suffixes; the browsers' push services).
    push_endpoint_hosts: tuple[str, ...] = (
        "fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com",
        "notify.windows.com")
    push_timeout_seconds: float = 10.0
    # Email (messaging.email): `console` only logs that an email went (no address, no
    # text); `smtp` sends through SMTP_HOST. Without a backend no participant can choose it.
    email_backend: str = "none"
    email_from: str = ""  # "Study team <study@example.org>"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"  # starttls | ssl | none (none: loopback hosts only)
    smtp_timeout_seconds: float = 10.0
    ratelimit_storage_uri: str = "memory://"
    login_rate_limit: str = "5 per minute"
    max_body_bytes: int = 256 * 1024
    participant_link_ttl_days: int = 60
    submit_grace_hours: int = 12
    sdtmig_version: str = "3.3"  # SDTM QS baseline flag: QSBLFL (3.3) or QSLOBXFL (3.4)
    log_level: str = "INFO"
    fake_now: str = ""
    # Every scheduler job at most this many seconds apart (0: each job's own interval);
    # for tests and local trials that cannot wait half a minute.
    job_interval_seconds: int = 0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    @cached_property
    def keyring(self) -> Keyring:
        """This configuration's encryption and lookup keys (each app holds its own)."""
        try:
            return Keyring(self.data_keys, self.phone_lookup_key)
        except ValueError as exc:
            raise ConfigError(f"PRO_DATA_KEYS / PHONE_LOOKUP_KEY: {exc}") from exc


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = environ.get(name) or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _push_hosts(environ: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    raw = environ.get("PUSH_ENDPOINT_HOSTS", "")
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    return {"push_endpoint_hosts": hosts} if hosts else {}


def _served_url(env: str, instance_path: Path) -> str:
    """Without PUBLIC_BASE_URL: in development the URL `make run` last served, else :5000."""
    served = instance_path / SERVED_URL_FILE
    if env == "development" and served.is_file():
        return served.read_text(encoding="utf-8").strip() or DEFAULT_BASE_URL
    return DEFAULT_BASE_URL


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read the settings from `environ` (default: the process environment)."""
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("PRO_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PRO_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    instance_path = Path(env_vars.get("PRO_INSTANCE_PATH", "instance")).resolve()
    sms_backend = env_vars.get("SMS_BACKEND", "console")
    if sms_backend not in SMS_BACKENDS:
        raise ConfigError(f"SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}")
    keys = tuple(k.strip() for k in env_vars.get("PRO_DATA_KEYS", "").split(",") if k.strip())
    settings = Settings(
        env=env,
        database_url=env_vars.get("DATABASE_URL", f"sqlite:///{instance_path / 'pro.db'}"),
        secret_key=env_vars.get("SECRET_KEY", ""),
        data_keys=keys,
        phone_lookup_key=env_vars.get("PHONE_LOOKUP_KEY", ""),
        trusted_proxies=_int(env_vars, "TRUSTED_PROXIES", 0),
        login_lockout_failures=_int(env_vars, "LOGIN_LOCKOUT_FAILURES", 10),
        public_base_url=(env_vars.get("PUBLIC_BASE_URL")
                         or _served_url(env, instance_path)).rstrip("/"),
        instance_path=instance_path,
        sms_backend=sms_backend,
        twilio_account_sid=env_vars.get("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env_vars.get("TWILIO_AUTH_TOKEN", ""),
        twilio_messaging_service_sid=env_vars.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        twilio_from_number=env_vars.get("TWILIO_FROM_NUMBER", ""),
        twilio_api_base_url=env_vars.get("TWILIO_API_BASE_URL", ""),
        unsafe_loopback_twilio=env_vars.get("PRO_UNSAFE_LOOPBACK_TWILIO", "") == "1",
        twilio_timeout_seconds=_float(env_vars, "TWILIO_TIMEOUT_SECONDS", 10.0),
        twilio_error_policy=env_vars.get("TWILIO_ERROR_POLICY", ""),
        vapid_private_key=env_vars.get("VAPID_PRIVATE_KEY", "").strip(),
        vapid_public_key=env_vars.get("VAPID_PUBLIC_KEY", "").strip(),
        vapid_subject=env_vars.get("VAPID_SUBJECT", "").strip(),
        push_timeout_seconds=_float(env_vars, "PUSH_TIMEOUT_SECONDS", 10.0),
        **_push_hosts(env_vars),
        email_backend=_choice(env_vars, "EMAIL_BACKEND", EMAIL_BACKENDS),
        email_from=env_vars.get("EMAIL_FROM", "").strip(),
        smtp_host=env_vars.get("SMTP_HOST", "").strip(),
        smtp_port=_int(env_vars, "SMTP_PORT", 587),
        smtp_username=env_vars.get("SMTP_USERNAME", ""),
        smtp_password=env_vars.get("SMTP_PASSWORD", ""),
        smtp_security=_choice(env_vars, "SMTP_SECURITY", SMTP_SECURITY),
        smtp_timeout_seconds=_float(env_vars, "SMTP_TIMEOUT_SECONDS", 10.0),
        ratelimit_storage_uri=env_vars.get("RATELIMIT_STORAGE_URI", "memory://"),
        login_rate_limit=env_vars.get("LOGIN_RATE_LIMIT", "5 per minute"),
        max_body_bytes=_int(env_vars, "MAX_BODY_BYTES", 256 * 1024),
        participant_link_ttl_days=_int(env_vars, "PARTICIPANT_LINK_TTL_DAYS", 60),
        submit_grace_hours=_int(env_vars, "SUBMIT_GRACE_HOURS", 12),
        sdtmig_version=_choice(env_vars, "SDTMIG_VERSION", ("3.3", "3.4")),
        log_level=env_vars.get("LOG_LEVEL", "INFO"),
        fake_now=env_vars.get("PRO_FAKE_NOW", ""),
        job_interval_seconds=_int(env_vars, "PRO_JOB_INTERVAL_SECONDS", 0),
    )
    settings = replace(settings, **overrides)  # type: ignore[arg-type]
    return _complete_secrets(settings)


def _complete_secrets(settings: Settings) -> Settings:
    """Refuse missing secrets in production; elsewhere generate and keep dev ones."""
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", settings.secret_key),
            ("PRO_DATA_KEYS", settings.data_keys),
            ("PHONE_LOOKUP_KEY", settings.phone_lookup_key),
        )
        if not value
    ]
    if settings.is_production:
        if missing:
            raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
        if settings.sms_backend == "twilio" and not settings.twilio_auth_token:
            raise ConfigError(
                "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        if settings.sms_backend == "console":
            raise ConfigError(
                "production refuses SMS_BACKEND=console (it only logs texts): set "
                "SMS_BACKEND=twilio, or SMS_BACKEND=none to run without SMS"
            )
        _check_production_twilio_base_url(settings)
        if settings.fake_now:
            raise ConfigError("PRO_FAKE_NOW (a frozen clock) is refused in production")
    for key in settings.data_keys:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            message = "PRO_DATA_KEYS must be Fernet keys (urlsafe base64, 32 bytes)"
            raise ConfigError(message) from exc
    if settings.phone_lookup_key and len(settings.phone_lookup_key) < MIN_LOOKUP_KEY_LENGTH:
        raise ConfigError(f"PHONE_LOOKUP_KEY needs at least {MIN_LOOKUP_KEY_LENGTH} characters "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    _check_push(settings)
    _check_email(settings)
    if settings.trusted_proxies < 0:
        raise ConfigError("TRUSTED_PROXIES must be 0 or more (the number of proxies in front)")
    if not missing:
        return settings
    stored = _dev_secrets(settings.instance_path)
    log.warning(
        "Using development secrets generated in %s for %s; never use them in production",
        settings.instance_path / "dev-secrets.json",
        ", ".join(missing),
    )
    return replace(
        settings,
        secret_key=settings.secret_key or stored["SECRET_KEY"],
        data_keys=settings.data_keys or (stored["PRO_DATA_KEYS"],),
        phone_lookup_key=settings.phone_lookup_key or stored["PHONE_LOOKUP_KEY"],
    )


def _check_production_twilio_base_url(settings: Settings) -> None:
    """The base URL exists for the fake Twilio: production refuses it, except on loopback
    when the smoke test's PRO_UNSAFE_LOOPBACK_TWILIO=1 says so explicitly."""
    if not settings.twilio_api_base_url:
        return
    host = (urlsplit(settings.twilio_api_base_url).hostname or "").lower()
    if not settings.unsafe_loopback_twilio:
        raise ConfigError("TWILIO_API_BASE_URL (the fake Twilio) is refused in production")
    if host not in LOOPBACK_HOSTS:
        raise ConfigError("PRO_UNSAFE_LOOPBACK_TWILIO allows TWILIO_API_BASE_URL on a loopback "
                          f"host only, not {host!r}")
    log.warning("PRO_UNSAFE_LOOPBACK_TWILIO=1: production texts go to %s, not to Twilio",
                settings.twilio_api_base_url)


def _check_push(settings: Settings) -> None:
    """Push runs with both VAPID keys and a contact, or not at all (never half-configured)."""
    given = [bool(settings.vapid_private_key), bool(settings.vapid_public_key)]
    if any(given) and not all(given):
        raise ConfigError("Web Push needs both VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY "
                          "(`pro vapid generate` prints a pair)")
    if all(given) and not settings.vapid_subject.startswith(("mailto:", "https://")):
        raise ConfigError("VAPID_SUBJECT must be a mailto: or https: contact for the push "
                          "services")
    if settings.is_production and any(
            h in LOOPBACK_HOSTS for h in settings.push_endpoint_hosts):
        raise ConfigError("PUSH_ENDPOINT_HOSTS may not name a loopback host in production")


def _check_email(settings: Settings) -> None:
    """Email runs with a From address (and SMTP_HOST for smtp), or not at all. Plain SMTP
    (no TLS) only to a loopback relay; production refuses the console (it sends nothing)."""
    if settings.email_backend == "none":
        return
    if "@" not in settings.email_from:
        raise ConfigError(f"EMAIL_BACKEND={settings.email_backend} needs EMAIL_FROM (an address)")
    if settings.is_production and settings.email_backend == "console":
        raise ConfigError("production refuses EMAIL_BACKEND=console (it only logs that an "
                          "email went): set EMAIL_BACKEND=smtp, or leave it unset")
    if settings.email_backend != "smtp":
        return
    if not settings.smtp_host:
        raise ConfigError("EMAIL_BACKEND=smtp needs SMTP_HOST")
    if settings.smtp_security == "none" and settings.smtp_host.lower() not in LOOPBACK_HOSTS:
        raise ConfigError("SMTP_SECURITY=none (no TLS) is allowed only to a relay on this "
                          "machine (127.0.0.1, ::1, localhost)")


def _dev_secrets(instance_path: Path) -> dict[str, str]:
    path = instance_path / "dev-secrets.json"
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PRO_DATA_KEYS": Fernet.generate_key().decode(),
        "PHONE_LOOKUP_KEY": secrets.token_urlsafe(48),
    }
    stored = json.loads(path.read_text()) if path.exists() else {}
    if stored and all(name in stored for name in generated):
        return stored
    if "PRO_DATA_KEYS" in stored:
        # A file from before PHONE_LOOKUP_KEY: its lookups were derived from the data key.
        stored.setdefault("PHONE_LOOKUP_KEY", stored["PRO_DATA_KEYS"])
    stored = {**generated, **stored}
    instance_path.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored))
    path.chmod(0o600)
    return stored
