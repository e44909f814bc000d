"""A fake Twilio Messages API on 127.0.0.1 for tests and local trials.

It implements what the service uses (create, list and fetch Messages, in the JSON shapes
the ``twilio`` library parses), records every message, fails on demand (HTTP 429/500,
timeouts, dropped connections, Twilio error codes, a seeded random failure rate), emulates
Twilio's STOP blocking (error 21610 after an inbound STOP), and posts correctly signed
status callbacks and inbound messages to the service.

Run standalone for local trials (prints what it receives)::

    python -m tests.fakes.fake_twilio --port 8765

then point the service's Twilio API base URL at http://127.0.0.1:8765. Control endpoints
for people trying the service: ``GET /_fake/messages``, ``POST /_fake/inbound``
(From, Body, To, Url) and ``POST /_fake/status`` (MessageSid, MessageStatus, ErrorCode, Url).

Standard library only on the server side; signatures use twilio's RequestValidator.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import random
import re
import secrets
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "fake-auth-token"

# Twilio's built-in (English) keywords; the service matches a wider list itself.
_TWILIO_STOP = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
_TWILIO_START = frozenset({"START", "UNSTOP", "YES"})
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>SM[0-9a-f]{32})\.json$"
)

# 429 / 500 (HTTP status), 21610 (Twilio code), "timeout", "accept_then_timeout", "reset",
# "slow" (answers, but only after hold_seconds: after the client has given up)
FailureKind = int | str
_NAMED_FAILURES = frozenset({"timeout", "accept_then_timeout", "reset", "slow"})
_RANDOM_FAILURES: tuple[FailureKind, ...] = (429, 500, "reset")

_ERROR_MESSAGES = {
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    error_code: int | None = None
    # Error a later "undelivered"/"failed" callback reports when none is given (30xxx codes).
    planned_error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": format_datetime(self.date_created, usegmt=True),
            "date_updated": format_datetime(self.date_updated, usegmt=True),
            "date_sent": format_datetime(self.date_sent, usegmt=True) if self.date_sent else None,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "to": self.to,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": uri.replace(".json", "/Media.json"),
                "feedback": uri.replace(".json", "/Feedback.json"),
            },
            "uri": uri,
        }


@dataclass(frozen=True)
class SignedRequest:
    """A form POST as Twilio would make it. Usable with a Flask test client:
    ``client.post(path, data=req.params, headers=req.headers)``."""

    url: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PostResult:
    status: int
    body: str


class FakeTwilio:
    """Starts serving on 127.0.0.1 (port 0 = any free port) as soon as it is created."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        port: int = 0,
        hold_seconds: float = 5.0,
        emulate_opt_out: bool = True,
        auto_status: bool = False,
        on_message: Callable[[FakeMessage], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.hold_seconds = hold_seconds
        self.emulate_opt_out = emulate_opt_out
        self.auto_status = auto_status
        self.on_message = on_message
        self.clock = clock
        self.validator = RequestValidator(auth_token)
        self.opted_out: set[str] = set()
        self.request_count = 0
        self._messages: list[FakeMessage] = []
        self._failures: deque[FailureKind] = deque()
        self._list_failures: deque[FailureKind] = deque()
        self._failure_rate = 0.0
        self._rng = random.Random(0)
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Release held requests, stop serving and close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what was received -----------------------------------------------------------------

    @property
    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    def get(self, sid: str) -> FakeMessage:
        with self._lock:
            for message in self._messages:
                if message.sid == sid:
                    return message
        raise KeyError(sid)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[FakeMessage]:
        """Block until at least ``count`` messages were accepted (or raise TimeoutError)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} messages, expected {count}")
            return list(self._messages)

    # -- failure injection -----------------------------------------------------------------

    def fail_next(self, n: int, kind: FailureKind) -> None:
        """Make the next ``n`` create calls fail with ``kind``: an HTTP status (429, 500,
        503), a Twilio error code (21610, 21211: HTTP 400; 30xxx: accepted, and a later
        undelivered callback reports the code), "timeout" (holds the request
        ``hold_seconds`` without recording it), "accept_then_timeout" (records the message,
        then holds and drops the connection), "slow" (records the message and answers
        after ``hold_seconds``), or "reset" (drops the connection without answering)."""
        is_http_status = isinstance(kind, int) and 400 <= kind <= 599
        is_error_code = isinstance(kind, int) and kind >= 10000
        if not (is_http_status or is_error_code or kind in _NAMED_FAILURES):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._failures.extend([kind] * n)

    def fail_list_next(self, n: int, kind: FailureKind = 500) -> None:
        """Make the next ``n`` lookups (list calls after a timeout, fetches of one message
        for a missing delivery report) fail: an HTTP status
        (the twilio library raises "Unable to fetch page"), "timeout", "slow" or "reset"."""
        if not ((isinstance(kind, int) and 400 <= kind <= 599)
                or kind in ("timeout", "slow", "reset")):
            raise ValueError(f"unknown list failure kind {kind!r}")
        with self._lock:
            self._list_failures.extend([kind] * n)

    def _next_list_failure(self) -> FailureKind | None:
        with self._lock:
            return self._list_failures.popleft() if self._list_failures else None

    def set_failure_rate(self, p: float, seed: int | None = None) -> None:
        """Fail each create call with probability ``p`` (429, 500 or a dropped connection)."""
        if not 0.0 <= p <= 1.0:
            raise ValueError("p must be within [0, 1]")
        with self._lock:
            self._failure_rate = p
            self._rng = random.Random(seed)

    def _next_failure(self) -> FailureKind | None:
        with self._lock:
            if self._failures:
                return self._failures.popleft()
            if self._failure_rate and self._rng.random() < self._failure_rate:
                return self._rng.choice(_RANDOM_FAILURES)
        return None

    def hold(self) -> None:
        """Stall a request until ``hold_seconds`` pass or the server stops."""
        self._stopping.wait(self.hold_seconds)

    # -- the Messages resource -------------------------------------------------------------

    def accept(self, form: Mapping[str, str]) -> FakeMessage:
        now = self.clock()
        service_sid = form.get("MessagingServiceSid") or None
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=form["To"],
            from_=form.get("From") or None,
            body=form.get("Body", ""),
            messaging_service_sid=service_sid,
            status_callback=form.get("StatusCallback") or None,
            status="accepted" if service_sid else "queued",
            date_created=now,
            date_updated=now,
        )
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()
        if self.on_message is not None:
            self.on_message(message)
        if self.auto_status and message.status_callback:
            threading.Thread(target=self._deliver_later, args=(message.sid,), daemon=True).start()
        return message

    def _deliver_later(self, sid: str) -> None:
        for status in ("sent", "delivered"):
            try:
                self.post_status_callback(sid, status)
            except OSError as exc:
                log.warning("fake twilio: status callback for %s failed: %s", sid, exc)
                return

    def list_messages(self, query: Mapping[str, str]) -> list[FakeMessage]:
        selected = []
        for message in self.messages:
            if "To" in query and message.to != query["To"]:
                continue
            if "From" in query and message.from_ != query["From"]:
                continue
            if not _date_filters_match(message.date_sent, query):
                continue
            selected.append(message)
        return sorted(selected, key=lambda m: m.date_created, reverse=True)

    # -- requests Twilio makes to the service ----------------------------------------------

    def sign(self, url: str, params: Mapping[str, str]) -> SignedRequest:
        signature = self.validator.compute_signature(url, dict(params))
        return SignedRequest(
            url=url,
            params=dict(params),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    def build_status_callback(
        self, sid: str, status: str, error_code: int | None = None, *, url: str | None = None
    ) -> SignedRequest:
        """The signed callback for ``sid`` moving to ``status``; also updates the record."""
        message = self.get(sid)
        target = url or message.status_callback
        if not target:
            raise ValueError(f"{sid} has no status callback URL; pass url=")
        if error_code is None and status in ("undelivered", "failed"):
            error_code = message.planned_error_code
        now = self.clock()
        with self._lock:
            message.status = status
            message.date_updated = now
            if status in ("sent", "delivered", "undelivered") and message.date_sent is None:
                message.date_sent = now
            if error_code is not None:
                message.error_code = error_code
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.from_:
            params["From"] = message.from_
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = now.strftime("%y%m%d%H%M")
        return self.sign(target, params)

    def post_status_callback(
        self, sid: str, status: str, error_code: int | None = None, *, url: str | None = None
    ) -> PostResult:
        return post_form(self.build_status_callback(sid, status, error_code, url=url))

    def build_inbound(
        self, from_: str, body: str, to: str, url: str, *, messaging_service_sid: str | None = None
    ) -> SignedRequest:
        """A signed inbound SMS webhook; a STOP/START keyword also (un)blocks the sender
        like Twilio's default opt-out handling does."""
        keyword = body.strip().upper()
        if self.emulate_opt_out:
            with self._lock:
                if keyword in _TWILIO_STOP:
                    self.opted_out.add(from_)
                elif keyword in _TWILIO_START:
                    self.opted_out.discard(from_)
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        if messaging_service_sid:
            params["MessagingServiceSid"] = messaging_service_sid
        return self.sign(url, params)

    def post_inbound(
        self, from_: str, body: str, to: str, url: str, *, messaging_service_sid: str | None = None
    ) -> PostResult:
        return post_form(
            self.build_inbound(from_, body, to, url, messaging_service_sid=messaging_service_sid)
        )


def post_form(request: SignedRequest, timeout: float = 10.0) -> PostResult:
    """POST a signed form to the service; returns its status and body (errors included)."""
    if urlsplit(request.url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {request.url}")
    http_request = urllib.request.Request(  # noqa: S310 - scheme checked above
        request.url,
        data=urlencode(request.params).encode(),
        headers=request.headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:  # noqa: S310
            return PostResult(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        with error:
            return PostResult(error.code, error.read().decode("utf-8", "replace"))


def _parse_filter_value(value: str) -> datetime | date:
    value = value.strip()
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _date_filters_match(date_sent: datetime | None, query: Mapping[str, str]) -> bool:
    """DateSent / DateSent< / DateSent> (on or before / on or after, by day or instant).
    A message without a date sent (still queued) matches no date filter."""
    checks = [(key, query[key]) for key in ("DateSent", "DateSent<", "DateSent>") if key in query]
    if not checks:
        return True
    if date_sent is None:
        return False
    for key, raw in checks:
        bound = _parse_filter_value(raw)
        value: datetime | date = date_sent if isinstance(bound, datetime) else date_sent.date()
        if (
            (key == "DateSent" and value != bound)
            or (key == "DateSent<" and value > bound)  # type: ignore[operator]
            or (key == "DateSent>" and value < bound)  # type: ignore[operator]
        ):
            return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTwilio

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that timed out and went away are expected here.
        log.debug("fake twilio: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this
    # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (about 40 ms per request on Linux).
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake twilio: " + format, *args)

    # -- plumbing --------------------------------------------------------------------------

    def _read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_error(self, http_status: int, code: int, message: str | None = None) -> None:
        self._send_json(
            http_status,
            {
                "code": code,
                "message": message or _ERROR_MESSAGES.get(code, f"Error {code}"),
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": http_status,
            },
        )

    def _reset_connection(self) -> None:
        """Close with RST so the client sees 'connection reset' and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _authorized(self, account: str) -> bool:
        expected = base64.b64encode(
            f"{self.fake.account_sid}:{self.fake.auth_token}".encode()
        ).decode()
        header = self.headers.get("Authorization", "")
        if not secrets.compare_digest(header, f"Basic {expected}"):
            self._send_error(401, 20003, "Authenticate")
            return False
        if account != self.fake.account_sid:
            self._send_error(404, 20404, "The requested resource was not found")
            return False
        return True

    # -- routes ----------------------------------------------------------------------------

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = self._read_form()
        with self.fake._lock:
            self.fake.request_count += 1
        needed = {
            "/_fake/inbound": ("From", "Body", "To", "Url"),
            "/_fake/status": ("MessageSid", "MessageStatus"),
        }
        missing = [name for name in needed.get(path, ()) if not form.get(name)]
        if missing:
            self._send_json(400, {"missing": missing})
            return
        if path == "/_fake/inbound":
            result = self.fake.post_inbound(form["From"], form["Body"], form["To"], form["Url"])
            self._send_json(200, {"status": result.status, "body": result.body})
            return
        if path == "/_fake/status":
            code = int(form["ErrorCode"]) if form.get("ErrorCode") else None
            result = self.fake.post_status_callback(
                form["MessageSid"], form["MessageStatus"], code, url=form.get("Url") or None
            )
            self._send_json(200, {"status": result.status, "body": result.body})
            return
        match = _MESSAGES_PATH.match(path)
        if not match:
            self._send_error(404, 20404, "The requested resource was not found")
            return
        if self._authorized(match["account"]):
            self._create_message(form)

    def _create_message(self, form: dict[str, str]) -> None:
        failure = self.fake._next_failure()
        if failure == "timeout":
            self.fake.hold()
            self._reset_connection()
            return
        if failure == "reset":
            self._reset_connection()
            return
        if isinstance(failure, int) and 400 <= failure <= 599:
            self._send_error(failure, 20429 if failure == 429 else 20500)
            return
        if isinstance(failure, int) and failure < 30000:
            self._send_error(400, failure)
            return

        to = form.get("To", "")
        if not to:
            self._send_error(400, 21604, "A 'To' phone number is required.")
            return
        if not (form.get("From") or form.get("MessagingServiceSid")):
            self._send_error(400, 21603, "A 'From' phone number is required.")
            return
        if not form.get("Body"):
            self._send_error(400, 21602, "Message body is required.")
            return
        if not _E164.match(to):
            self._send_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            return
        with self.fake._lock:
            blocked = to in self.fake.opted_out
        if blocked:
            self._send_error(400, 21610)
            return

        message = self.fake.accept(form)
        if isinstance(failure, int):  # 30xxx: accepted now, fails on delivery
            message.planned_error_code = failure
        if failure == "accept_then_timeout":
            self.fake.hold()
            self._reset_connection()
            return
        if failure == "slow":
            self.fake.hold()
        self._send_json(201, message.to_json())

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.fake._lock:
            self.fake.request_count += 1
        if parts.path == "/_fake/messages":
            self._send_json(200, [m.to_json() for m in self.fake.messages])
            return
        single = _MESSAGE_PATH.match(parts.path)
        match = single or _MESSAGES_PATH.match(parts.path)
        if not match:
            self._send_error(404, 20404, "The requested resource was not found")
            return
        if not self._authorized(match["account"]):
            return
        failure = self.fake._next_list_failure()  # lookups: a list or one message
        if failure in ("timeout", "slow"):
            self.fake.hold()
        if failure in ("timeout", "reset"):
            self._reset_connection()
        elif isinstance(failure, int):
            self._send_error(failure, 20429 if failure == 429 else 20500)
        elif single:
            try:
                self._send_json(200, self.fake.get(single["sid"]).to_json())
            except KeyError:
                self._send_error(404, 20404, "The requested resource was not found")
        else:
            self._list_messages(parts.path, parse_qs(parts.query))

    def _list_messages(self, path: str, raw_query: dict[str, list[str]]) -> None:
        query = {key: values[-1] for key, values in raw_query.items()}
        page_size = max(1, min(int(query.get("PageSize", 50)), 1000))
        page = max(0, int(query.get("Page", 0)))
        selected = self.fake.list_messages(query)
        start = page * page_size
        chunk = selected[start : start + page_size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': page_size, 'Page': number})}"

        has_next = start + page_size < len(selected)
        self._send_json(
            200,
            {
                "messages": [m.to_json() for m in chunk],
                "end": start + max(len(chunk) - 1, 0),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page),
            },
        )


def _print_message(message: FakeMessage) -> None:
    sender = message.messaging_service_sid or message.from_
    print(
        f"[fake-twilio] {message.sid} to={message.to} from={sender} "
        f"callback={message.status_callback}\n    {message.body}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Twilio Messages API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--no-auto-status",
        action="store_true",
        help="do not post 'sent' and 'delivered' callbacks after each message",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        port=args.port,
        auto_status=not args.no_auto_status,
        on_message=_print_message,
    )
    if args.failure_rate:
        fake.set_failure_rate(args.failure_rate, args.seed)
    print(
        f"fake Twilio listening on {fake.base_url} (account {args.account_sid}); Ctrl-C stops",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
