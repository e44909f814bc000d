"""Twilio's webhooks: delivery reports and inbound SMS.

Both check `X-Twilio-Signature` with the twilio library's validator against the URL Twilio
was given, PUBLIC_BASE_URL + path (+ query), never `request.url`: behind a TLS-terminating
proxy the URL Flask sees differs. A missing or wrong signature, or an `AccountSid` that is
not this service's account (a callback signed for another account on a shared auth token, or
replayed from one), gets 403 before anything is read or written.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator

from pro_server.context import Actor
from pro_server.db import retry_when_sqlite_locked
from pro_server.extensions import csrf
from pro_server.messaging import inbound
from pro_server.messaging.inbound import parse_int
from pro_server.web import db_session, settings, unit_of_work

log = logging.getLogger(__name__)

STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

blp = Blueprint("twilio_webhooks", __name__)
csrf.exempt(blp)


def signed_url() -> str:
    query = request.query_string.decode()
    return settings().public_base_url + request.path + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    token = settings().twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not (token and signature and RequestValidator(token).validate(
            signed_url(), request.form, signature)):
        log.warning("twilio webhook %s refused: missing or wrong signature", request.path)
        abort(403, "Invalid Twilio signature")
    if request.form.get("AccountSid") != settings().twilio_account_sid:
        log.warning("twilio webhook %s refused: AccountSid is not this service's account",
                    request.path)
        abort(403, "This callback is for another Twilio account")


@blp.post(STATUS_PATH)
def status_callback() -> tuple[str, int]:
    require_twilio_signature()
    policy = current_app.extensions["pro"]["sms_error_policy"]
    # On SQLite a report meeting another writer's commit is tried again, never lost to a 500.
    for attempt in retry_when_sqlite_locked(db_session()):
        with attempt, unit_of_work(Actor.system("twilio:status")) as ctx:
            outcome = inbound.record_status(ctx, request.form, policy=policy,
                                            message_id=parse_int(request.args.get("m")),
                                            attempt=parse_int(request.args.get("a")))
    log.info("twilio status %s %s: %s", request.form.get("MessageSid"),
             request.form.get("MessageStatus"), outcome)
    return "", 204


@blp.post(INBOUND_PATH)
def inbound_sms() -> Response:
    require_twilio_signature()
    try:
        with unit_of_work(Actor.system("twilio:inbound")) as ctx:
            message = inbound.receive(ctx, request.form)
    except IntegrityError:  # the same message delivered twice at once; the other one won
        message = None
    if message is not None:
        log.info("inbound SMS %s: %s, participant %s", message.id, message.kind,
                 message.participant_id)
    return Response(EMPTY_TWIML, 200, mimetype="text/xml")
