"""Messaging: the outbox, its dispatcher job, Twilio's webhooks and the staff API.

The SMS sender lives in `app.extensions["pro"]["sms_sender"]` (built on first use from
the settings; tests may put their own there), the error-code policy in
`app.extensions["pro"]["sms_error_policy"]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

from pro_server.config import ConfigError, Settings
from pro_server.context import ServiceContext
from pro_server.messaging import mail, push
from pro_server.messaging.cli import vapid_cli
from pro_server.messaging.dispatcher import Dispatcher
from pro_server.messaging.provider_errors import ErrorPolicy
from pro_server.messaging.push import PushSender
from pro_server.messaging.reconcile import Reconciler
from pro_server.messaging.sms_backends import ConsoleSender, SmsSender, TwilioSender
from pro_server.messaging.webhooks import STATUS_PATH


def status_callback_url(settings: Settings) -> str:
    return settings.public_base_url + STATUS_PATH


def check_settings(settings: Settings) -> None:
    if settings.sms_backend != "twilio":
        return
    missing = [name for name, value in (
        ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
        ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        ("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
         settings.twilio_messaging_service_sid or settings.twilio_from_number),
    ) if not value]
    if missing:
        raise ConfigError(f"SMS_BACKEND=twilio needs {', '.join(missing)}")


def error_policy(settings: Settings) -> ErrorPolicy:
    """The provider error map: defaults, overridden by TWILIO_ERROR_POLICY (JSON)."""
    if not settings.twilio_error_policy:
        return ErrorPolicy()
    try:
        return ErrorPolicy.from_config(json.loads(settings.twilio_error_policy))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"TWILIO_ERROR_POLICY: {exc}") from exc


def build_sender(pro: dict[str, Any]) -> SmsSender | None:
    """The configured sender; None with SMS_BACKEND=none (texts recorded as not sent)."""
    settings: Settings = pro["settings"]
    if settings.sms_backend == "none":
        return None
    if settings.sms_backend == "twilio":
        return TwilioSender(
            settings.twilio_account_sid, settings.twilio_auth_token,
            messaging_service_sid=settings.twilio_messaging_service_sid or None,
            from_number=settings.twilio_from_number or None,
            timeout_seconds=settings.twilio_timeout_seconds,
            api_base_url=settings.twilio_api_base_url or None,
        )
    clock = pro["clock"]
    return ConsoleSender(clock=clock.now)


def push_sender(app: Flask) -> PushSender | None:
    """The Web Push sender; None without VAPID keys (push rows fall back to the next
    channel). Built on first use; tests may put their own in `extensions["pro"]`."""
    pro = app.extensions["pro"]
    if pro.get("push_sender") is None and push.enabled(pro["settings"]):
        pro["push_sender"] = PushSender(pro["settings"])
    return pro.get("push_sender")


def email_sender(app: Flask) -> mail.EmailSender | None:
    """The email sender; None without EMAIL_BACKEND (email rows fall back to the next
    channel). Built on first use; tests may put their own in `extensions["pro"]`."""
    pro = app.extensions["pro"]
    if pro.get("email_sender") is None:
        pro["email_sender"] = mail.build_sender(pro["settings"])
    return pro.get("email_sender")


def sms_sender(app: Flask) -> SmsSender | None:
    pro = app.extensions["pro"]
    if pro.get("sms_sender") is None:
        pro["sms_sender"] = build_sender(pro)
    return pro["sms_sender"]


def dispatch_due(new_context: Callable[[], ServiceContext]) -> int:
    """The scheduler's job: send what is due (see messaging.dispatcher)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pro = app.extensions["pro"]
    settings: Settings = pro["settings"]
    pusher = push_sender(app)
    mailer = email_sender(app)
    call_timeout = max(settings.twilio_timeout_seconds,
                       settings.push_timeout_seconds if pusher else 0.0,
                       settings.smtp_timeout_seconds if mailer else 0.0)
    dispatcher = Dispatcher(
        sms_sender(app), status_callback_url=status_callback_url(settings),
        error_policy=pro["sms_error_policy"], stopping=pro.get("stopping"),
        push_sender=pusher, email_sender=mailer, email_from=settings.email_from,
        # A held row outlives any one provider call (SMS or push) by a margin, or its
        # holder is gone.
        lease=timedelta(seconds=max(60.0, 3 * call_timeout)),
        call_timeout=timedelta(seconds=call_timeout))
    return dispatcher.run(new_context)


def reconcile_due(new_context: Callable[[], ServiceContext]) -> int:
    """The scheduler's job: delivery reports that never came, asked of the provider (see
    messaging.reconcile)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions["pro"]["settings"].sms_backend != "twilio":
        return 0  # the console reports no deliveries: nothing is missing
    return Reconciler(sms_sender(app), app.extensions["pro"]["sms_error_policy"]).run(
        new_context)


JOBS = (("dispatch-messages", dispatch_due, 30), ("reconcile-delivery", reconcile_due, 300))
COMMANDS = (vapid_cli,)


def register(app: Flask, api: Any) -> None:
    from pro_server.messaging import hooks
    from pro_server.messaging.routes import blp
    from pro_server.messaging.unsubscribe import blp as unsubscribe
    from pro_server.messaging.webhooks import blp as webhooks

    check_settings(app.extensions["pro"]["settings"])
    if push.enabled(app.extensions["pro"]["settings"]):
        push.load_vapid(app.extensions["pro"]["settings"])  # a bad key stops the start
    app.extensions["pro"].setdefault("sms_sender", None)
    app.extensions["pro"].setdefault(
        "sms_error_policy", error_policy(app.extensions["pro"]["settings"]))
    hooks.subscribe(app.extensions["pro"]["events"])
    api.register_blueprint(blp)
    app.register_blueprint(webhooks)
    app.register_blueprint(unsubscribe)
