"""The JSON input check's shortcut (`_plainly_acceptable`) passes a body only when walking
it would find nothing: every body below is judged the same with and without it."""

from __future__ import annotations

import json

import pytest

from pro_server import request_input
from pro_server.errors import DomainError

DEEP = b"[" * 32 + b"1" + b"]" * 32
DEEPER = b"[" * 33 + b"1" + b"]" * 33
BODIES = [
    b"", b"  ", b"{}", b"[]", b"1", b'"plain"', b'{"answers": {"q1": 1, "q2": null}}',
    DEEP, DEEPER, b'{"a": "' + b"[" * 40 + b'"}', b"[" * 20 + b"{" * 13 + b"}" * 13 + b"]" * 20,
    '{"name": "caf\u00e9 \u05e9\u05dc\u05d5\u05dd \u200f ok"}'.encode(),
    '{"name": "GNV-\u202e100"}'.encode(), '{"\u2066key": 1}'.encode(),
    b'{"x": "del\x7f"}', '{"x": "c1\x85"}'.encode(),
    b'{"x": "\\u202e"}', b'{"x": "\\u0000"}', b'{"x": "tab\\tline\\n"}', b'{"x": "\\ud800"}',
    b'{"x": "\xed\xa0\x80"}', b'{"x": "\xed\xb0\x80 lone"}',
    '\ufeff{"x": 1}'.encode(), '{"x": "\u202e"}'.encode("utf-16"), b'{"a": 1, "a": 2}',
    b'{"n": 99999999999999999999}', b'{"n": NaN}', b"[1,", b'{"x": "\xff"}',
]


def _verdict(body: bytes) -> tuple[str, object, object]:
    try:
        request_input._check_json(body)
    except DomainError as exc:
        return type(exc).__name__, exc.message, exc.errors
    except RecursionError:
        return "RecursionError", None, None
    return "ok", None, None


@pytest.mark.parametrize("body", BODIES)
def test_the_same_verdict_with_and_without_the_shortcut(body, monkeypatch):
    fast = _verdict(body)
    monkeypatch.setattr(request_input, "_plainly_acceptable", lambda _body: False)
    assert fast == _verdict(body)


def test_the_shortcut_is_taken_for_a_plain_body():
    body = json.dumps({"instrument": "PHQ9", "answers": {f"q{i}": i % 4 for i in range(9)},
                       "language": "en"}).encode()
    assert request_input._plainly_acceptable(body)
    assert not request_input._plainly_acceptable(DEEPER)
    assert not request_input._plainly_acceptable(b'{"x": "\\u202e"}')
