"""A Web Push service on 127.0.0.1 that does what a browser's push service checks.

Each request must carry a VAPID (RFC 8292) `Authorization: vapid t=<JWT>, k=<key>` whose
ES256 signature verifies with the application server key the subscription was made with
(py_vapid), whose `aud` is this service's origin and whose `exp` is within 24 h. The body
is decrypted (RFC 8291, aes128gcm, http_ece) with the subscription's private key and auth
secret, the way the browser would. RFC 8030 §5.4: a message with the `Topic` of a message
still waiting for the device replaces it, so `delivered(sub)` is what the device shows.
A subscription can be made gone (410), and `on_message` may hold a request (a gate).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid.jwt import decode as decode_jwt
from py_vapid.utils import b64urlencode


@dataclass
class FakeSubscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    endpoint: str
    gone: bool = False
    # topic (or a unique key when none) -> payload: what the device shows.
    inbox: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: int = 0
    posts_by_topic: Counter[str] = field(default_factory=Counter)

    def as_browser_json(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives the page."""
        public = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint,
                "keys": {"p256dh": b64urlencode(public), "auth": b64urlencode(self.auth_secret)}}


class FakePushService:
    def __init__(self, application_server_key: str) -> None:
        self.application_server_key = application_server_key
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.rejected: list[str] = []  # why requests were refused (bad JWT, bad payload)
        self.on_message: Callable[[FakeSubscription, dict[str, Any]], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def subscribe(self) -> FakeSubscription:
        sub_id = b64urlencode(os.urandom(12))
        sub = FakeSubscription(sub_id, ec.generate_private_key(ec.SECP256R1()), os.urandom(16),
                               f"{self.origin}/push/{sub_id}")
        self.subscriptions[sub_id] = sub
        return sub

    def delivered(self, sub: FakeSubscription) -> list[dict[str, Any]]:
        return list(sub.inbox.values())

    # -- the HTTP side ------------------------------------------------------------------------

    def _check_vapid(self, header: str) -> str | None:
        """None when the VAPID header is right, else why not."""
        if not header.lower().startswith("vapid "):
            return "no vapid authorization"
        parts = dict(p.strip().split("=", 1) for p in header[6:].split(","))
        if parts.get("k") != self.application_server_key:
            return "not the key the subscription was made with"
        try:
            claims = decode_jwt(parts.get("t", ""), parts["k"])
        except Exception as exc:
            return f"bad JWT signature ({type(exc).__name__})"
        if claims.get("aud") != self.origin:
            return f"aud {claims.get('aud')!r} is not {self.origin}"
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 24 * 3600:
            return "exp not within 24 h"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return "no sub contact"
        return None

    def _receive(self, sub_id: str, headers: Any, body: bytes) -> int:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            return 404
        if sub.gone:
            return 410
        why = self._check_vapid(headers.get("Authorization", ""))
        if why is None and headers.get("Content-Encoding") != "aes128gcm":
            why = "content encoding is not aes128gcm"
        if why is None and not headers.get("TTL", "").isdigit():
            why = "no TTL"
        if why is not None:
            self.rejected.append(why)
            return 403 if "JWT" in why or "key" in why else 400
        try:
            plain = http_ece.decrypt(body, private_key=sub.private_key,
                                     auth_secret=sub.auth_secret, version="aes128gcm")
            payload = json.loads(plain)
        except Exception as exc:
            self.rejected.append(f"cannot decrypt: {exc!r}")
            return 400
        with self._lock:
            sub.posts += 1
            topic = headers.get("Topic") or f"untopical-{sub.posts}"
            sub.inbox[topic] = payload
            sub.posts_by_topic[topic] += 1
        if self.on_message is not None:
            self.on_message(sub, payload)
        return 201

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.strip("/").split("/")
                status = (fake._receive(parts[1], self.headers, body)
                          if len(parts) == 2 and parts[0] == "push" else 404)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler
