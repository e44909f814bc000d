"""A JSON body is parsed once: the routes' parser (webargs, through ApiBlueprint) takes the
document the input check read. For every body the check lets through, a route reads what
webargs' own parse would have given it, or is refused as webargs would refuse it."""

from __future__ import annotations

import json

import pytest
from flask import Flask, request
from webargs import core
from webargs.flaskparser import FlaskParser

from pro_server.api_blueprint import ApiBlueprint
from pro_server.errors import DomainError
from pro_server.request_input import check_request_input
from tests.kernel.test_request_input_shortcut import BODIES

MORE = [json.dumps({"x": [1, 2.5, True, None, "\u00e9"]}).encode(),
        '{"x": 1}'.encode("utf-16"), '{"x": 1}'.encode("utf-32"), b'\xef\xbb\xbf{"x": 1}']


def _read(parser: FlaskParser) -> tuple[str, object]:
    try:
        return "ok", parser._raw_load_json(request)
    except (ValueError, UnicodeDecodeError) as exc:
        return type(exc).__name__, None


@pytest.mark.parametrize("body", BODIES + MORE)
@pytest.mark.parametrize("content_type", ["application/json", "application/problem+json",
                                          "text/x+json"])
def test_a_route_reads_what_webargs_would_have_read(body, content_type):
    with Flask(__name__).test_request_context(data=body, content_type=content_type):
        try:
            check_request_input()
        except DomainError:
            return  # refused before any route reads it
        assert _read(ApiBlueprint.ARGUMENTS_PARSER) == _read(FlaskParser())


def test_a_checked_body_is_not_parsed_again(monkeypatch):
    def parse_again(_body: bytes) -> None:
        raise AssertionError("parsed twice")

    monkeypatch.setattr(core, "parse_json", parse_again)
    body = json.dumps({"instrument": "PHQ9", "answers": {"q1": 1}, "language": "en"}).encode()
    with Flask(__name__).test_request_context(data=body, content_type="application/json"):
        check_request_input()
        assert ApiBlueprint.ARGUMENTS_PARSER._raw_load_json(request) == json.loads(body)
