"""Web Push (RFC 8030/8291/8292) through `pywebpush`: the sender, the notification's
content, and a participant's device subscriptions.

A notification carries no health information and no score: a neutral title, "Your study
check-in is open" (or a visit notice) and a tap target (the participant's page, which
opens with the session cookie; no token). Each is sent with the outbox row's `Topic`, so
a copy sent again after an interrupted attempt replaces an undelivered one at the push
service, and the service worker shows it under the same tag (one notification).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from py_vapid.utils import b64urldecode, b64urlencode
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select

from pro_server.audit.services import record
from pro_server.config import LOOPBACK_HOSTS, ConfigError, Settings
from pro_server.context import ServiceContext
from pro_server.errors import InvalidInput, NotFound
from pro_server.messaging.purposes import VISIT_PURPOSES, Purpose
from pro_server.messaging.sms_backends import ProviderError, ProviderTimeout, RetryableKind
from pro_server.participants.models import Participant, PushSubscription

log = logging.getLogger(__name__)

TAP_TARGET = "/p"
# A day: a reminder that waits longer at the push service is of no use.
TTL_SECONDS = 24 * 3600
_TEXTS = {
    "en": {"title": "Study check-in", "survey": "Your study check-in is open",
           "visit": "There is news about your study visit"},
    "es": {"title": "Control del estudio", "survey": "Su control del estudio está abierto",
           "visit": "Hay novedades sobre su visita del estudio"},
}


class PushGone(Exception):
    """The push service no longer knows the subscription (404/410): delete it."""


@dataclass(frozen=True)
class PushTarget:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


def notification(purpose: Purpose | str, language: str, tag: str) -> str:
    """The payload the service worker shows (JSON), in the participant's language."""
    texts = _TEXTS.get(language.split("-")[0].lower(), _TEXTS["en"])
    body = texts["visit"] if Purpose(purpose) in VISIT_PURPOSES else texts["survey"]
    return json.dumps({"title": texts["title"], "body": body, "url": TAP_TARGET, "tag": tag},
                      ensure_ascii=False)


def generate_keys() -> tuple[str, str]:
    """A new VAPID pair: (private key, public key = the browser's applicationServerKey),
    both base64url."""
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(raw), b64urlencode(public)


def load_vapid(settings: Settings) -> Vapid:
    """The configured private key, checked against the public key the browsers get."""
    try:
        vapid = Vapid.from_string(settings.vapid_private_key)
        public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    except Exception as exc:
        raise ConfigError(f"VAPID_PRIVATE_KEY is not a usable key: {exc}") from exc
    if public != b64urldecode(settings.vapid_public_key.encode()):
        raise ConfigError("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY")
    return vapid


class PushSender:
    """Sends one encrypted (aes128gcm) message to one subscription, VAPID-signed."""

    def __init__(self, settings: Settings) -> None:
        self._vapid = load_vapid(settings)
        self._subject = settings.vapid_subject
        self._timeout = settings.push_timeout_seconds

    def send(self, target: PushTarget, payload: str, *, topic: str) -> None:
        """Raises PushGone, ProviderError (refused or retryable) or ProviderTimeout."""
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh,
                                                       "auth": target.auth}}
        try:
            webpush(info, payload, vapid_private_key=self._vapid,
                    vapid_claims={"sub": self._subject}, ttl=TTL_SECONDS,
                    timeout=self._timeout, headers={"Topic": topic, "Urgency": "normal"})
        except WebPushException as exc:
            status = exc.status_code
            if status in (404, 410):
                raise PushGone(
                    f"the device no longer takes notifications (HTTP {status})") from exc
            kind = (RetryableKind.RATE_LIMITED if status == 429
                    else RetryableKind.SERVER if status is None or status >= 500 else None)
            raise ProviderError(None, status, kind, f"push service: HTTP {status}") from exc
        except requests.RequestException as exc:
            # Reached or not, the dispatcher sends again later under the same Topic.
            raise ProviderTimeout(f"push service: {type(exc).__name__}") from exc


# -- subscriptions -------------------------------------------------------------------------


def enabled(settings: Settings) -> bool:
    return bool(settings.vapid_private_key and settings.vapid_public_key)


def _check_endpoint(settings: Settings, endpoint: str) -> None:
    """The server POSTs to the endpoint: only a known push service's https URL (plain http
    only to a loopback host named in PUSH_ENDPOINT_HOSTS, for the tests' fake)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = any(host == h or host.endswith("." + h) for h in settings.push_endpoint_hosts)
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)
    if not (allowed and secure):
        raise InvalidInput.field("endpoint", "Not the address of a known push service")


def _lookup(ctx: ServiceContext, endpoint: str) -> str:
    return ctx.settings.keyring.lookup_hash("push:" + endpoint)


def subscribe(ctx: ServiceContext, p: Participant, data: dict) -> PushSubscription:
    """Store (or refresh) this device's subscription; audited without the endpoint."""
    if not enabled(ctx.settings):
        raise InvalidInput.field("endpoint", "Notifications are not available for this study")
    _check_endpoint(ctx.settings, data["endpoint"])
    lookup = _lookup(ctx, data["endpoint"])
    sub = ctx.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint_lookup == lookup))
    if sub is not None and sub.participant_id != p.id:
        # The device changed hands (a shared phone): it now belongs to this participant.
        ctx.session.delete(sub)
        ctx.session.flush()
        sub = None
    if sub is None:
        sub = PushSubscription(participant_id=p.id, endpoint=data["endpoint"],
                               endpoint_lookup=lookup)
        ctx.session.add(sub)
    sub.p256dh = data["keys"]["p256dh"]
    sub.auth = data["keys"]["auth"]
    sub.device_label = (data.get("device_label") or None)
    ctx.session.flush()
    record(ctx, "push_subscription.add", "participant", p.id,
           after={"subscription": sub.id, "device": sub.device_label},
           study_id=p.study_id, site_id=p.site_id)
    return sub


def subscriptions(ctx: ServiceContext, p: Participant) -> list[PushSubscription]:
    return list(ctx.session.scalars(select(PushSubscription).where(
        PushSubscription.participant_id == p.id).order_by(PushSubscription.id)))


def remove(ctx: ServiceContext, p: Participant, subscription_id: int, why: str) -> None:
    sub = ctx.session.get(PushSubscription, subscription_id)
    if sub is None or sub.participant_id != p.id:
        raise NotFound("No such device")
    ctx.session.delete(sub)
    record(ctx, "push_subscription.remove", "participant", p.id,
           before={"subscription": subscription_id, "device": sub.device_label},
           after={"why": why}, study_id=p.study_id, site_id=p.site_id)


def remove_by_endpoint(ctx: ServiceContext, p: Participant, endpoint: str) -> bool:
    """The participant turned notifications off on this device."""
    sub = ctx.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint_lookup == _lookup(ctx, endpoint),
        PushSubscription.participant_id == p.id))
    if sub is None:
        return False
    remove(ctx, p, sub.id, "turned off by the participant")
    return True


def forget_gone(ctx: ServiceContext, p: Participant, ids: list[int], detail: str) -> None:
    """Subscriptions the push service says are gone (404/410): deleted, audited."""
    if not ids:
        return
    ctx.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids))
                        .execution_options(synchronize_session=False))
    record(ctx, "push_subscription.expired", "participant", p.id,
           before={"subscriptions": ids}, after={"why": detail},
           study_id=p.study_id, site_id=p.site_id)


def targets(ctx: ServiceContext, p: Participant) -> tuple[PushTarget, ...]:
    return tuple(PushTarget(s.id, s.endpoint, s.p256dh, s.auth)
                 for s in subscriptions(ctx, p))
