"""Flask glue shared by every feature's routes: the request's DB session, its service
context, who is calling (a bearer client, or the session's signed-in user as the staff
feature says), and the one transaction boundary per request."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, cast

from flask import Flask, Response, current_app, g, request, stream_with_context
from flask import json as flask_json
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request
from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes
from itsdangerous.signer import HMACAlgorithm
from sqlalchemy.orm import Session
from werkzeug.http import parse_cookie
from werkzeug.local import LocalProxy

from pro_server.clock import Clock
from pro_server.config import Settings
from pro_server.context import Actor, ServiceContext
from pro_server.errors import Unauthorized

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


_PLAIN_SCALARS = (str, int, bool, type(None))


def _plain(value: Any) -> bool:
    """Whether Flask's tagged JSON would write `value` as it is: text, integers, booleans,
    null and objects of them under text keys (a key that starts with a space could be a
    tag's, so it is not plain)."""
    if type(value) in _PLAIN_SCALARS:
        return True
    return type(value) is dict and all(
        type(k) is str and not k.startswith(" ") and _plain(v) for k, v in value.items())


class _SessionJSON(TaggedJSONSerializer):
    """Flask's session serializer; a session of plain values is written without the tag
    walk (a dozen checks per value), into the same JSON text, and read without the untag
    walk (a call per value) when no string in the text starts with a space: every tag's
    key does (" t", " di", ...), so such a text has no tag to undo. A backslash, which could
    write a space as an escape, sends the text the tagged way too."""

    def dumps(self, value: Any) -> str:
        if _plain(value):
            return flask_json.dumps(value, separators=(",", ":"))
        return super().dumps(value)

    def loads(self, value: str) -> Any:
        if '" ' not in value and "\\" not in value:
            # flask_json.loads without its two proxy look-ups: Flask's default provider (the
            # app's) and Flask outside an app both read with the standard library's
            return json.loads(value)
        return super().loads(value)


class OneCallHMAC(HMACAlgorithm):
    """itsdangerous' HMAC signature, computed by one call of the standard library's
    `hmac.digest` rather than through an HMAC object made for each signature: the same bytes."""

    def __init__(self, name: str) -> None:
        super().__init__(getattr(hashlib, name))
        self.name = name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self.name)


class _KeptKeysSigner(TimestampSigner):
    """itsdangerous' timestamp signer that derives each secret key once (itsdangerous derives
    it again for every signature made or checked); the derived keys are those it derives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[str | bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived = self._derived.get(secret_key)
        if derived is None:
            derived = self._derived[secret_key] = super().derive_key(secret_key)
        return derived


class KeptSignerSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer that makes its signer (a `_KeptKeysSigner`)
    once, rather than for every value it signs or reads. A signer holds only its settings,
    so one serves every request and thread."""

    default_signer = _KeptKeysSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signer = super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is None or want_bytes(salt) == self.salt:
            return self._signer
        return super().make_signer(salt)


REFRESH_AFTER_SECONDS = 60  # a session cookie read this long after it was signed is re-sent


class _Session(SecureCookieSession):
    """Flask's cookie session, knowing when the cookie it was read from was signed."""

    signed_at: int | None = None  # seconds since the epoch, as the cookie's signer counts them


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed session cookie, re-sent unchanged at most once a minute.

    The session is permanent with an idle timeout (PERMANENT_SESSION_LIFETIME): the cookie's
    signature carries the time it was signed, and a cookie signed longer ago than that is
    refused. Flask slides the timeout by signing, compressing and sending the cookie again
    on every response. Here a session that the request did not change is sent again only
    when the cookie it came from was signed REFRESH_AFTER_SECONDS or more ago, so the idle
    timeout still slides, from the last cookie sent: a session ends between 8 hours minus a
    minute and 8 hours after its last request. A changed session is always sent; an emptied
    one deleted; a new one sent when it has something in it: as Flask. (So a value changed
    in place inside the session needs `session.modified = True`, Flask's own rule, which
    re-sending every cookie used to hide; nothing here changes one in place.)

    The cookie's age is counted on its signer's clock (itsdangerous' `get_timestamp`, real
    time), the one its signing time and its expiry check are counted on, not on the app's
    clock (pro_server.clock): that one can be moved by days in development and tests, which
    would make every cookie look new or every cookie old.

    Flask also makes a new serializer (and key list) to read the cookie and again to write
    it, on every request. The same keys give the same serializer, so it is kept while
    SECRET_KEY and SECRET_KEY_FALLBACKS stay as they are; it signs with Flask's settings
    (salt, HMAC key derivation, SHA-1), its signer kept (`KeptSignerSerializer`): the same
    cookie, byte for byte, as Flask's."""

    serializer = _SessionJSON()
    digest_method = staticmethod(hashlib.sha1)
    session_class = _Session
    _made: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, self._serializer(app))
        return made[1]

    def open_session(self, app: Flask, request: Request) -> _Session | None:
        """Flask's `open_session`, keeping when the cookie was signed."""
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        # `request.cookies` as werkzeug reads it, from the request's one Cookie header,
        # without its walk over every header to find that one (not kept: nothing else reads it)
        cookies = parse_cookie(request.environ, cls=request.dict_storage_class)
        name = self.get_cookie_name(app)
        # A MultiDict's `get` of a missing name raises and catches a KeyError: asked first
        val = cookies.get(name) if name in cookies else None
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = int(signed_at.timestamp())
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Flask's answer, except that an unchanged session's cookie signed less than a
        minute ago is not sent again."""
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or self._signer_now(app) - signed_at >= REFRESH_AFTER_SECONDS

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's `save_session`, returning early when nothing is to be sent: it would only
        add `Vary: Cookie` to a response of a request that read the session. That header is
        added here, first, as Flask adds it first: Flask's own `vary.add` then finds it."""
        if session.accessed:
            _vary_on_cookie(response)
        if not session.modified and not (session and self.should_set_cookie(app, session)):
            return
        super().save_session(app, session, response)

    def _signer_now(self, app: Flask) -> int:
        serializer = self.get_signing_serializer(app)
        signer = cast(TimestampSigner, serializer.make_signer()) if serializer else None
        return signer.get_timestamp() if signer else int(time.time())

    def _serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer (`SecureCookieSessionInterface.get_signing_serializer`), its
        signer kept and its HMAC computed in one call."""
        if not app.secret_key:
            return None
        keys = [*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key]
        return KeptSignerSerializer(
            keys, salt=self.salt, serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation,
                           "digest_method": self.digest_method,
                           "algorithm": OneCallHMAC("sha1")})


def _vary_on_cookie(response: Response) -> None:
    """`response.vary.add("Cookie")`, as Flask adds it; a response without a Vary header
    (most) gets it added at once: werkzeug's `vary` reads a missing header by raising and
    catching an exception."""
    if response.headers.getlist("Vary"):
        response.vary.add("Cookie")
    else:
        response.headers.add("Vary", "Cookie")


def _pro() -> dict[str, Any]:
    """The app's own parts (`create_app` keeps them in `app.extensions["pro"]`)."""
    return app_object().extensions["pro"]


def settings() -> Settings:
    return _pro()["settings"]


def clock() -> Clock:
    return _pro()["clock"]


def app_object() -> Flask:
    """The app itself rather than the context-local proxy ``current_app``: for work that
    outlives the app context or runs on another thread (the scheduler)."""
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def current_request() -> Request:
    """The request itself rather than the proxy `request`: each attribute read through the
    proxy is a context-variable look-up after a failed ordinary one (an AttributeError made
    and dropped), ten times what reading the request costs; a hook or helper that runs in
    every request takes the request once."""
    return cast("LocalProxy[Request]", request)._get_current_object()


def request_globals() -> Any:
    """The request's `g` itself: each use of the `g` proxy is a context-variable look-up,
    and these helpers run several times in every request."""
    return cast("LocalProxy[Any]", g)._get_current_object()


def db_session() -> Session:
    here = request_globals()
    db = here.get("db")  # not getattr: `g` answers a missing name by raising, twice
    if db is None:
        db = here.db = _pro()["session_factory"]()
    return db


def request_id() -> str:
    here = request_globals()
    found = here.get("request_id")
    if found is None:
        # The header as `request.headers` reads it, without the KeyError it raises when absent
        supplied = current_request().environ.get("HTTP_X_REQUEST_ID", "")
        found = here.request_id = (supplied if _REQUEST_ID.match(supplied)
                                   else uuid.uuid4().hex)
    return found


def close_db_session(_exc: BaseException | None = None) -> None:
    db = request_globals().pop("db", None)
    if db is not None:
        db.rollback()
        db.close()


BearerAuthenticator = Callable[[str], Actor | None]
SessionAuthenticator = Callable[[], Actor | None]


def set_session_authenticator(app: Flask, authenticator: SessionAuthenticator) -> None:
    """The staff feature says who is signed in through the session cookie (an Actor or None)."""
    app.extensions["pro"]["session_authenticator"] = authenticator


def session_actor() -> Actor:
    """The session's signed-in user, or 401."""
    authenticate = _pro().get("session_authenticator")
    actor = authenticate() if authenticate is not None else None
    if actor is None:
        raise Unauthorized("Sign in as staff first")
    return actor


def add_bearer_authenticator(app: Flask, authenticator: BearerAuthenticator) -> None:
    """A feature that authenticates API clients by bearer token (the EDC) adds a function
    returning the Actor of a valid token, or None. Bearer requests carry no cookie, so they
    need no CSRF token."""
    app.extensions["pro"]["bearer_authenticators"].append(authenticator)


def bearer_token() -> str | None:
    # The header as `request.headers` reads it, from the environ (as `request_id`)
    header = current_request().environ.get("HTTP_AUTHORIZATION", "")
    return header[7:].strip() or None if header.startswith("Bearer ") else None


def bearer_actor() -> Actor | None:
    """The Actor of the request's bearer token when a registered authenticator accepts it."""
    token = bearer_token()
    if not token:
        return None
    if "bearer_actor" not in g:
        g.bearer_actor = next((actor for actor in (a(token) for a in _authenticators())
                               if actor is not None), None)
    return g.bearer_actor


def _authenticators() -> list[BearerAuthenticator]:
    return _pro()["bearer_authenticators"]


def current_actor() -> Actor:
    """A signed-in staff user or a bearer-authenticated client; 401 otherwise."""
    if bearer_token():
        actor = bearer_actor()
        if actor is None:
            raise Unauthorized("Unknown or revoked API credentials")
        return actor
    return session_actor()


def context(actor: Actor) -> ServiceContext:
    pro = _pro()
    return ServiceContext(
        session=db_session(),
        clock=pro["clock"],
        actor=actor,
        settings=pro["settings"],
        events=pro["events"],
        request_id=request_id(),
        client_address=current_request().remote_addr,
    )


def unit_of_work(actor: Actor) -> _UnitOfWork:
    """One transaction: commit when the block ends normally, roll back otherwise."""
    return _UnitOfWork(context(actor))


class _UnitOfWork:
    """`with unit_of_work(actor) as ctx:`. A plain context manager rather than a generator
    made one by `contextlib.contextmanager`, which costs a generator, two resumptions and a
    StopIteration raised and caught in every request that writes."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def __enter__(self) -> ServiceContext:
        return self.ctx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        session = self.ctx.session
        if exc_type is not None:
            session.rollback()
            return  # the block's exception goes on
        try:
            session.commit()
        except BaseException:
            session.rollback()
            raise


def streamed_response(chunks: Iterable[bytes], mimetype: str, filename: str | None = None,
                      headers: dict[str, str] | None = None) -> Response:
    """A streamed body that ends its read transaction when the last chunk is sent (or the
    client goes away): with a server-side cursor it must not outlive the response."""
    db = db_session()

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            db.rollback()
            db.close()

    response = Response(stream_with_context(body()), mimetype=mimetype)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers.update(headers or {})
    return response
