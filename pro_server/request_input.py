"""What every request must look like before any route reads it: one check for all features.

Runs before the routes' own parsers (webargs, Flask forms), so a body they would read
ambiguously, or choke on, never reaches them:

- JSON bodies: duplicate keys in an object are refused (``{"dress": 0, "dress": 3}`` would
  otherwise be scored with whichever came last); nesting deeper than MAX_JSON_DEPTH,
  integers outside the 64-bit range, NaN/Infinity and invalid UTF-8 are refused (400).
- Text in JSON bodies and query strings: control characters (other than tab, CR and LF),
  unpaired surrogates and bidirectional embedding/override/isolate characters are refused
  (422, naming the field). Names, site names and messages are shown to participants and staff;
  a right-to-left override can make "GNV-001" display as another subject, and PostgreSQL
  cannot store NUL at all. Marks that only hint direction (U+200E, U+200F) are allowed.
- Form bodies (Twilio's webhooks) and the URL path: NUL is refused; nothing else is judged,
  because an SMS is the participant's own words.
- Ids in URL paths: the `int` converter accepts only what an id column can hold (IdConverter);
  a larger number is a 404 like any other unknown id, not an overflow in the database driver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

from flask import Flask, Request, request
from werkzeug.local import LocalProxy
from werkzeug.routing import IntegerConverter

from pro_server.errors import DomainError, InvalidInput
from pro_server.validation import ID_MAX

MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1
_FORBIDDEN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_JSON_TYPES = ("application/json",)
_CHECKED_JSON = "pro_server.checked_json"  # the request's environ key of the checked document
UNCHECKED = object()  # `checked_json` of a request whose body was not read as JSON here


class BadJson(DomainError):
    status = 400


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a positive id that fits an id column, else no route (404)."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class JsonAwareRequest(Request):
    """Flask's request, not handing a JSON body to werkzeug's form parser.

    That parser reads only form types and answers an empty form for any other, after it is
    made (reading three limits from the app's config) and given the body's length and type.
    flask-wtf looks for its token in `request.form` in every state-changing request, so a JSON
    body made that round trip each time. `want_form_data_parsed`, werkzeug's switch for it,
    is off for JSON: the form and files are the same empty ones, and `request.stream` stays
    the input stream (the body is read through `get_data`, which keeps it)."""

    @property
    def want_form_data_parsed(self) -> bool:
        mimetype = self.mimetype
        if mimetype in _JSON_TYPES or mimetype.endswith("+json"):
            return False
        return super().want_form_data_parsed


def install(app: Flask) -> None:
    """Register the request class, the id converter and the input check; call before
    blueprints are registered."""
    app.request_class = JsonAwareRequest
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request_input)


def text_problem(value: str) -> str | None:
    """Why a piece of text is refused, or None when it is acceptable."""
    found = _FORBIDDEN_TEXT.search(value)
    if found is None:
        return None
    return (f"Contains a control or text-direction character (U+{ord(found.group()):04X}); "
            "remove it")


def check_request_input() -> None:
    req = cast("LocalProxy[Request]", request)._get_current_object()  # one look-up, not six
    if "\x00" in req.path:
        raise BadJson("The URL contains a NUL character")
    if req.query_string:  # else no arguments: not parsed into an empty MultiDict to check
        _check_query(req)
    if not req.environ.get("CONTENT_TYPE"):
        return  # no body type (a GET): nothing below applies, and `mimetype` would raise
    mimetype = req.mimetype
    if mimetype in _JSON_TYPES or mimetype.endswith("+json"):
        body = req.get_data(cache=True)
        document = _check_json(body)
        # Kept for the routes' parser when it would decode the body alike: it reads UTF-8
        # without a BOM, and refuses other encodings, which this check reads.
        if document is not UNCHECKED and json.detect_encoding(body) == "utf-8":
            req.environ[_CHECKED_JSON] = document
    elif mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in req.form.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise InvalidInput(f"Invalid value for {name!r}",
                                   {"form": {name: ["Contains a NUL character"]}})


def checked_json(req: Request) -> Any:
    """The JSON body as the check read it (its one parse: the routes' parser takes it from
    here), or UNCHECKED when the check read none (not JSON, or an empty body)."""
    return req.environ.get(_CHECKED_JSON, UNCHECKED)


def _check_query(req: Request) -> None:
    problems: dict[str, list[str]] = {}
    for name, value in req.args.items(multi=True):
        problem = text_problem(name) or text_problem(value)
        if problem:
            problems.setdefault(name, []).append(problem)
    if problems:
        raise InvalidInput(f"Invalid value for {', '.join(sorted(problems))}",
                           {"query": problems})


def _check_json(body: bytes) -> Any:
    """The body's document once it passed the checks (UNCHECKED for an empty body)."""
    if not body.strip():
        return UNCHECKED
    decoder = _DECODER if _no_long_integer(body) else _DECODER_CHECKING_INTEGERS
    try:
        # As json.loads reads bytes: decoded as they are encoded (UTF-8, -16 or -32).
        document = decoder.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except RecursionError:
        raise BadJson(f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        # json.JSONDecodeError, and the hooks' own ValueErrors, name what is wrong.
        raise BadJson(f"Invalid JSON: {exc}") from None
    if _plainly_acceptable(body):
        return document
    problems: dict[str, list[str]] = {}
    for path, depth, text in _walk(document):
        if depth > MAX_JSON_DEPTH:
            raise BadJson(f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
        problem = text is not None and text_problem(text)
        if problem:
            problems.setdefault(path or "(body)", []).append(problem)
    if problems:
        raise InvalidInput(f"Invalid value for {', '.join(sorted(problems))}",
                           {"json": problems})
    return document


def _plainly_acceptable(body: bytes) -> bool:
    """Whether the body, valid JSON, is seen to pass the walk below without walking it.

    With no backslash in a UTF-8 body, every string of the document (key or value) is a piece
    of its text as it stands, so a body text without a refused character has none in any
    string; and with no more than MAX_JSON_DEPTH brackets and braces in all, nothing is
    nested deeper than that. Anything else (an escape, another encoding, a refused character
    anywhere, many brackets) is walked, and judged, as before. JSON decodes a body as this
    does (surrogatepass), so an encoded surrogate is found here too."""
    return (body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH and b"\\" not in body
            and json.detect_encoding(body) == "utf-8"
            and _FORBIDDEN_TEXT.search(body.decode("utf-8", "surrogatepass")) is None)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _value in pairs:  # the first key that comes again, named
        if key in seen:
            raise ValueError(f"duplicate key {key!r} in one object")
        seen.add(key)
    raise AssertionError("unreachable: a key came twice")


def _int64(digits: str) -> int:
    if len(digits.lstrip("-")) > 19 or abs(value := int(digits)) > INT64_MAX:
        raise ValueError(f"integer {digits[:24]}{'...' if len(digits) > 24 else ''} "
                         "is out of range")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _no_long_integer(body: bytes) -> bool:
    """Whether a UTF-8 body is seen to hold no integer of 19 digits or more: no run of that
    many digits anywhere in it. Every integer of fewer digits fits 64 bits, so such a body
    is read without the range check on each integer (`_int64`, a call per number)."""
    return (json.detect_encoding(body) == "utf-8"
            and _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZEROS))


_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * len(str(INT64_MAX))
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
_DECODER_CHECKING_INTEGERS = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys, parse_int=_int64, parse_constant=_no_constant)


def _walk(document: Any) -> Iterator[tuple[str, int, str | None]]:
    """(dotted path, depth, text or None) of every value and key, without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 0, document)]
    while stack:
        path, depth, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                yield child, depth + 1, key
                stack.append((child, depth + 1, item))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), depth + 1, item))
        else:
            yield path, depth, value if isinstance(value, str) else None
