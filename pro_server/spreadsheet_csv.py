"""CSV downloads that people open in a spreadsheet (grids, lists, logs), one way for every
feature.

Cells that a spreadsheet would run as a formula (starting with = + - @ or a control
character) are prefixed with an apostrophe (OWASP "CSV injection"). Data meant for another
system to import (the EDC exports) is written as it is, by ``edc.csvout``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice

from flask import Response, stream_with_context

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _lines(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([_safe(v) for v in row] for row in rows)
    return out.getvalue()


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return _lines(chain([header], rows))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]],
               chunk_rows: int = 500) -> Iterator[bytes]:
    """The same CSV a chunk of rows at a time, for a streamed download."""
    lines = chain([header], rows)
    while batch := list(islice(lines, chunk_rows)):
        yield _lines(batch).encode("utf-8")


def csv_response(body: str | Iterator[bytes], name: str) -> Response:
    """An attachment named ``name``, never cached (it holds participant data); an iterable
    body is streamed, inside the request's context."""
    if not isinstance(body, str):
        body = stream_with_context(body)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
