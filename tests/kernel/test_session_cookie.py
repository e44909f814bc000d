"""The session cookie is Flask's own: the serializer kept per key signs and reads exactly as
Flask's, and a changed SECRET_KEY (or its fallbacks) is honoured at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner
from markupsafe import Markup

from pro_server.web import SessionCookie

session_json_serializer = TaggedJSONSerializer()  # Flask's own, as sessions use it
DATA = {"participant": {"id": 7, "link": 9}, "_permanent": True, "csrf_token": "abc"}


def _app(key: str, *fallbacks: str) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=key, SECRET_KEY_FALLBACKS=list(fallbacks))
    return app


def test_signs_and_reads_as_flask_does():
    app, flask_own, ours = _app("k1"), SecureCookieSessionInterface(), SessionCookie()
    cookie = ours.get_signing_serializer(app).dumps(DATA)
    assert flask_own.get_signing_serializer(app).loads(cookie, max_age=60) == DATA
    theirs = flask_own.get_signing_serializer(app).dumps(DATA)
    assert ours.get_signing_serializer(app).loads(theirs, max_age=60) == DATA
    assert cookie.rsplit(".", 2)[0] == theirs.rsplit(".", 2)[0]  # the same payload


@pytest.mark.parametrize("fallbacks", [(), ("k0",), ("k0", "k00")])
def test_the_cookie_is_flasks_byte_for_byte(monkeypatch, fallbacks):
    """Signer kept, derived keys kept, HMAC in one call: the very cookie Flask signs."""
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_790_000_000)
    app, flask_own, ours = _app("k1", *fallbacks), SecureCookieSessionInterface(), SessionCookie()
    for data in (DATA, {"staff": {"id": 3, "v": 2}, "_permanent": True}):
        for _ in range(2):  # the second time with the kept signer and derived key
            cookie = ours.get_signing_serializer(app).dumps(data)
            assert cookie == flask_own.get_signing_serializer(app).dumps(data)
    old = SecureCookieSessionInterface().get_signing_serializer(_app("k0")).dumps(DATA)
    if fallbacks:
        assert ours.get_signing_serializer(app).loads(old, max_age=60) == DATA
    tampered = cookie.replace(".", ".A", 1)  # a payload that was not signed
    with pytest.raises(BadSignature):
        ours.get_signing_serializer(app).loads(tampered, max_age=60)


def test_a_new_key_is_used_at_once():
    ours = SessionCookie()
    old = ours.get_signing_serializer(_app("k1")).dumps(DATA)
    rotated = ours.get_signing_serializer(_app("k2", "k1"))
    assert rotated.loads(old, max_age=60) == DATA  # the fallback still reads it
    assert rotated.dumps(DATA) != old
    try:
        ours.get_signing_serializer(_app("k3")).loads(old, max_age=60)
    except BadSignature:
        pass
    else:
        raise AssertionError("a cookie signed with a dropped key was accepted")


def test_the_app_uses_it(app):
    assert isinstance(app.session_interface, SessionCookie)


SESSIONS = [
    DATA, {}, {"staff": {"id": 3, "v": 2}, "_permanent": True, "x": None, "b": False},
    {"caf\u00e9": "\u05e9\u05dc\u05d5\u05dd", "z": 1, "a": {"b": {"c": "d"}}},
    {" t": [1, 2]}, {"k": (1, 2)}, {"k": b"bytes"}, {"k": [1, {"a": (2,)}]},
    {"k": Markup("<b>x</b>")}, {"k": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)},
    {"k": uuid.UUID(int=5)}, {" di": {"a": 1}}, {"k": 1.5},
]


@pytest.mark.parametrize("data", SESSIONS)
def test_the_session_json_is_flasks(data):
    app = _app("k1")
    ours = SessionCookie().serializer
    with app.app_context():
        assert ours.dumps(data) == session_json_serializer.dumps(data)
        assert ours.loads(ours.dumps(data)) == session_json_serializer.loads(
            session_json_serializer.dumps(data))


TEXTS = [
    '{"a":1}', '{"a":{"b":[1,2,{"c":null}]},"d":true}', '{" t":[1,2]}', '{"k":{" t":[1]}}',
    '{"k":{" b":"Ynl0ZXM="}}', '{"k":{" di":{"a__":{" t":[1]}}}}', '{"k":{" di":{" t":[1]}}}',
    '{"k":{" u":"00000000000000000000000000000005"}}',
    '{"k":{"\\u0020t":[1,2]}}', '{"k":" leading space"}', '{"k": {" m": "<b>x</b>"}}',
    '{"k":{" d":"Fri, 02 Jan 2026 03:04:00 GMT"}}', '{"k":{" t":[1],"other":2}}', '[{" t":[3]}]',
    '{"k":"caf\\u00e9"}', '"text"', '{"k":{" x":1}}',
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_session_json_reads_as_flasks(text):
    """Read the quick way only when no string starts with a space, and then alike."""
    def read(serializer: TaggedJSONSerializer) -> object:
        try:
            return serializer.loads(text)
        except Exception as exc:  # a text no cookie holds: it fails alike
            return type(exc)

    with _app("k1").app_context():
        ours, theirs = read(SessionCookie().serializer), read(session_json_serializer)
    assert ours == theirs
    assert repr(ours) == repr(theirs)  # the same types too (1 == 1.0 == True)


def test_every_tag_key_starts_with_a_space():
    assert all(key.startswith(" ") for key in SessionCookie().serializer.tags)
