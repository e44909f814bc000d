"""SMS senders: a console backend for development and a Twilio backend on the real
``twilio`` library.

Failures come out as two exception types the dispatcher must treat differently:

- ``ProviderError``: the provider answered with an error, or the connection could not be
  opened; the message was not accepted. ``retryable_kind`` says whether the transport
  condition is retryable (rate limit, server error, network); ``provider_errors.ErrorPolicy``
  decides what to do.
- ``ProviderTimeout``: the request may have reached the provider and the outcome is unknown
  (read timeout, connection dropped after sending). Resending blindly could duplicate the
  text: call ``find_sent`` first.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

log = logging.getLogger(__name__)


class RetryableKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # HTTP 429
    SERVER = "server"  # HTTP 5xx (Twilio documents these as not processed)
    NETWORK = "network"  # connection could not be opened


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    provider_status: str


@dataclass(frozen=True)
class ProviderStatus:
    """What the provider says of one message now (its delivery report, asked for)."""

    status: str  # Twilio's: queued, sent, delivered, undelivered, failed...
    error_code: int | None = None


class SmsError(Exception):
    """Base of the errors a sender raises."""


class ProviderError(SmsError):
    def __init__(
        self,
        code: int | None,
        http_status: int | None,
        retryable_kind: RetryableKind | None,
        message: str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.retryable_kind = retryable_kind
        self.message = message

    def __repr__(self) -> str:
        return (
            f"ProviderError(code={self.code!r}, http_status={self.http_status!r}, "
            f"retryable_kind={self.retryable_kind!r}, message={self.message!r})"
        )


class ProviderTimeout(SmsError):
    """The provider may or may not have accepted the message."""


BodyNormalizer = Callable[[str], str]


def _same_body(sent: str | None, wanted: str, normalize: BodyNormalizer | None) -> bool:
    if sent is None:
        return False
    return normalize(sent) == normalize(wanted) if normalize else sent == wanted


@runtime_checkable
class SmsSender(Protocol):
    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        """Hand one message to the provider. Raises ProviderError or ProviderTimeout."""
        ...

    def find_sent(
        self, to: str, since_utc: datetime, body: str, *, normalize: BodyNormalizer | None = None,
        exclude: Collection[str] = (),
    ) -> str | None:
        """Provider id of a message with this body to this number accepted since
        ``since_utc``, or None. Used after ProviderTimeout, before any resend. With
        ``normalize``, bodies are compared after it is applied to both (e.g. a body whose
        one-time link was replaced by a placeholder, when the clear body is gone); messages
        in ``exclude`` (already recorded for other rows) never match."""
        ...

    def fetch_status(self, provider_id: str) -> ProviderStatus:
        """The provider's current status of one message it accepted (a delivery report
        that never arrived). Raises ProviderError or ProviderTimeout."""
        ...


def redact_phone(number: str) -> str:
    """'+13055550123' -> '+*********23': enough to tell test numbers apart in a log."""
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 2:
        return "*" * len(digits)
    return ("+" if number.strip().startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


_URL_RE = re.compile(r"(https?://[^/\s]+)/\S*")


def redact_links(text: str) -> str:
    """Keep a link's host, hide its path: participant links carry access tokens."""
    return _URL_RE.sub(r"\1/…", text)


@dataclass(frozen=True)
class ConsoleMessage:
    provider_id: str
    to: str
    body: str
    status_callback: str | None
    sent_at: datetime


CONSOLE_KEEPS = 10_000


class ConsoleSender:
    """Development backend: records the message as sent and logs a redacted line."""

    def __init__(
        self,
        *,
        log_full_body: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._log_full_body = log_full_body
        self._clock = clock
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        # The recent messages, for find_sent and tests; bounded so a long-running
        # development server does not grow without end.
        self.sent: deque[ConsoleMessage] = deque(maxlen=CONSOLE_KEEPS)

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        with self._lock:
            provider_id = f"CONSOLE{next(self._counter):08d}"
            self.sent.append(ConsoleMessage(provider_id, to, body, status_callback, self._clock()))
        shown = body if self._log_full_body else redact_links(body)
        log.info("SMS %s to %s: %s", provider_id, redact_phone(to), shown)
        return SendResult(provider_id=provider_id, provider_status="sent")

    def find_sent(
        self, to: str, since_utc: datetime, body: str, *, normalize: BodyNormalizer | None = None,
        exclude: Collection[str] = (),
    ) -> str | None:
        with self._lock:
            for message in reversed(self.sent):
                if (message.to == to and _same_body(message.body, body, normalize)
                        and message.sent_at >= since_utc
                        and message.provider_id not in exclude):
                    return message.provider_id
        return None

    def fetch_status(self, provider_id: str) -> ProviderStatus:
        """Console messages are never delivered anywhere: `sent` is all there is to know."""
        with self._lock:
            if any(message.provider_id == provider_id for message in self.sent):
                return ProviderStatus("sent")
        raise ProviderError(20404, 404, None, f"{provider_id} is not a recent console message")


class TimeoutTwilioHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with a mandatory timeout, no request logging (the library logs
    phone numbers and bodies at INFO), and optionally every ``https://*.twilio.com`` URL
    rewritten to ``api_base_url`` (the fake server in tests and local trials)."""

    def __init__(self, *, timeout_seconds: float, api_base_url: str | None = None) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        # max_retries=None: urllib3 retries nothing; retries are the dispatcher's job.
        super().__init__(timeout=timeout_seconds, max_retries=None)
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None

    def rewrite_url(self, url: str) -> str:
        if not self.api_base_url:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        base = urlsplit(self.api_base_url)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            self.rewrite_url(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        return None

    def log_response(self, status_code: int, response: Any) -> None:
        return None


# Twilio's create call cannot be made idempotent; look back a little before the attempt in
# case clocks differ, and compare bodies exactly.
_FIND_SENT_CLOCK_SKEW = timedelta(minutes=2)
_FIND_SENT_RECENT_LIMIT = 20


class TwilioSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        timeout_seconds: float = 10,
        api_base_url: str | None = None,
    ) -> None:
        if not (messaging_service_sid or from_number):
            raise ValueError("TwilioSender needs messaging_service_sid or from_number")
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.http_client = TimeoutTwilioHttpClient(
            timeout_seconds=timeout_seconds, api_base_url=api_base_url
        )
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    def close(self) -> None:
        """Close pooled connections (call on shutdown; tests do, to avoid socket warnings)."""
        if self.http_client.session is not None:
            self.http_client.session.close()

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        # A Messaging Service wins: it is what A2P 10DLC registration is attached to.
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if status_callback:
            kwargs["status_callback"] = status_callback
        message = self._call(lambda: self.client.messages.create(**kwargs))
        return SendResult(provider_id=message.sid, provider_status=message.status or "queued")

    def find_sent(
        self, to: str, since_utc: datetime, body: str, *, normalize: BodyNormalizer | None = None,
        exclude: Collection[str] = (),
    ) -> str | None:
        """Search the recipient's recent messages. Twilio filters on DateSent only (by day),
        and a message still queued has no date sent, so the day-filtered list is followed by
        the most recent messages to the number; both are matched on date created and body."""
        if since_utc.tzinfo is None:
            raise ValueError("since_utc must be aware")
        earliest = since_utc.astimezone(UTC) - _FIND_SENT_CLOCK_SKEW
        day = earliest.strftime("%Y-%m-%d")
        searches = (
            lambda: self.client.messages.list(to=to, date_sent_after=day, limit=100),
            lambda: self.client.messages.list(to=to, limit=_FIND_SENT_RECENT_LIMIT),
        )
        for search in searches:
            for message in self._call(search):
                created = message.date_created
                if (
                    _same_body(message.body, body, normalize)
                    and isinstance(created, datetime)
                    and created >= earliest
                    and (message.direction or "").startswith("outbound")
                    and message.sid not in exclude
                ):
                    return str(message.sid)
        return None

    def fetch_status(self, provider_id: str) -> ProviderStatus:
        message = self._call(lambda: self.client.messages(provider_id).fetch())
        code = message.error_code
        return ProviderStatus(str(message.status or ""), int(code) if code else None)

    def _call(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except TwilioRestException as exc:
            raise ProviderError(
                exc.code, exc.status, _kind_for_status(exc.status), str(exc.msg)
            ) from exc
        except TwilioServiceException as exc:
            raise ProviderError(
                exc.code, exc.status, _kind_for_status(exc.status), str(exc.title)
            ) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise ProviderError(None, None, RetryableKind.NETWORK, "connect timeout") from exc
        except requests.exceptions.Timeout as exc:
            raise ProviderTimeout("no answer from the provider in time") from exc
        except requests.exceptions.ConnectionError as exc:
            if _connection_never_opened(exc):
                raise ProviderError(None, None, RetryableKind.NETWORK, "connection failed") from exc
            raise ProviderTimeout("connection dropped, outcome unknown") from exc
        except TwilioException as exc:
            # A failed list page ("Unable to fetch page", HTTP 500) and other library errors
            # carry the response, not a code: the request was answered, nothing accepted.
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", None)
            raise ProviderError(
                None, status, _kind_for_status(status) or RetryableKind.SERVER, str(exc.args[0])
            ) from exc
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            # Anything else from the transport or an unreadable answer: the call may have
            # reached the provider, so its outcome is unknown.
            raise ProviderTimeout(f"no usable answer from the provider ({exc!r})") from exc


def _kind_for_status(status: int | None) -> RetryableKind | None:
    if status == 429:
        return RetryableKind.RATE_LIMITED
    if status is not None and 500 <= status <= 599:
        return RetryableKind.SERVER
    return None


def _connection_never_opened(exc: requests.exceptions.ConnectionError) -> bool:
    """Connection refused / DNS failure: nothing was sent. A reset or abort after the
    request went out is ambiguous."""
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)
