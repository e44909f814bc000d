"""The JSON input check's shortcuts change no verdict: `_plainly_acceptable` passes a body
only when walking it would find nothing, and a body read without the range check on each
integer (`_no_long_integer`) has none out of range; every body below is judged the same,
and read into the same document, with and without them, and as json.loads with a hook per
object and per integer reads it."""

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
    # Integers at and past the 64-bit range, in numbers and in text, in every encoding.
    b'{"n": 9223372036854775807}', b'{"n": -9223372036854775807}',
    b'{"n": 9223372036854775808}', b'{"n": -9223372036854775809}',
    b'{"n": 1000000000000000000}', b'{"n": 999999999999999999, "m": -1}',
    b'[12345678901234567890123]', b'{"n": 1' + b"0" * 5000 + b"}",
    b'{"s": "12345678901234567890123", "n": 5}', b'{"f": 12345678901234567890.5}',
    b'{"f": 1e400, "g": -0.0, "h": 1.5}', b'[true, false, null, 0, -0, 10]',
    '{"n": 9223372036854775808}'.encode("utf-16"), '{"n": 1}'.encode("utf-32-le"),
    '\ufeff{"n": 99999999999999999999}'.encode(),
    # Keys that come again, first and later, nested, among others.
    b'{"a": 1, "b": 2, "a": 3, "b": 4}', b'{"a": {"x": 1, "y": 2, "x": 3}}',
    b'[{"a": 1}, {"a": 2}]', b'{"a": 1, "b": {"a": 2}, "c": [{"a": 3}]}',
    b'{"": 1, "": 2}', b'{"a": 1, "\\u0061": 2}',
]


def _verdict(body: bytes) -> tuple[str, object, object]:
    try:
        document = request_input._check_json(body)
    except DomainError as exc:
        return type(exc).__name__, exc.message, exc.errors
    except RecursionError:
        return "RecursionError", None, None
    return "ok", _typed(document), None


def _typed(document: object) -> object:
    """The document with its types seen (1, 1.0 and True are equal in Python)."""
    return document if document is request_input.UNCHECKED else json.dumps(document)


def _every_key_checked(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r} in one object")
        seen[key] = value
    return seen


def _read_with_every_hook(body: bytes) -> tuple[str, object]:
    try:
        document = json.loads(body, object_pairs_hook=_every_key_checked,
                              parse_int=request_input._int64,
                              parse_constant=request_input._no_constant)
    except RecursionError:
        return "BadJson", "Invalid JSON: nested deeper than 32 levels"
    except ValueError as exc:
        return "BadJson", f"Invalid JSON: {exc}"
    return "ok", _typed(document)


@pytest.mark.parametrize("body", BODIES)
def test_the_document_or_the_refusal_of_json_loads_with_every_hook(body):
    verdict = _verdict(body)
    if not body.strip():
        assert verdict == ("ok", request_input.UNCHECKED, None)
        return
    read = _read_with_every_hook(body)
    if read[0] == "ok":  # then refused by the walk alone, or read into the same document
        assert verdict[0] != "ok" or verdict[1] == read[1]
    else:
        assert verdict[:2] == read


def test_the_integer_shortcut_is_taken_for_short_integers_in_utf8_only():
    assert request_input._no_long_integer(b'{"q1": 3, "n": -999999999999999999}')
    assert not request_input._no_long_integer(b'{"n": 1000000000000000000}')
    assert not request_input._no_long_integer(b'{"s": "id 1234567890123456789"}')
    assert not request_input._no_long_integer('{"q1": 3}'.encode("utf-16"))


@pytest.mark.parametrize("shortcut", ["_plainly_acceptable", "_no_long_integer"])
@pytest.mark.parametrize("body", BODIES)
def test_the_same_verdict_with_and_without_the_shortcut(body, shortcut, monkeypatch):
    fast = _verdict(body)
    monkeypatch.setattr(request_input, shortcut, lambda _body: False)
    assert fast == _verdict(body)


def test_the_shortcut_is_taken_for_a_plain_body():
    body = json.dumps({"instrument": "PHQ9", "answers": {f"q{i}": i % 4 for i in range(9)},
                       "language": "en"}).encode()
    assert request_input._plainly_acceptable(body)
    assert not request_input._plainly_acceptable(DEEPER)
    assert not request_input._plainly_acceptable(b'{"x": "\\u202e"}')
