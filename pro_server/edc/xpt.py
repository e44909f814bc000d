"""SDTM-style datasets as CSV rows and SAS XPORT v5 (pure: records in, bytes out).

A `Dataset` names its variables, their labels and which are numeric; every dataset we
produce (QS, EX, DS) goes through the same writers.

XPORT: pyreadstat writes each chunk of rows; every character value is padded to its
column's fixed width (SAS drops trailing blanks on reading), so all chunks share one layout
and their observation bytes can be concatenated behind the header of the first. The widths
are the longest value each column actually holds (the FDA Technical Conformance Guide asks
that character variables not be padded beyond it): a first pass over the same streamed query
measures them, the second writes. Both passes hold one chunk at most, however large the study.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

XPT_CHUNK = 20_000
MAX_WIDTH = 200  # SDTM character variables are at most 200 bytes in XPORT v5
_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"


@dataclass(frozen=True)
class Dataset:
    """An SDTM(-like) dataset: name, label, variables (name, label), the numeric ones."""

    name: str
    label: str
    columns: tuple[tuple[str, str], ...]
    numeric: frozenset[str]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


def csv_rows(dataset: Dataset, records: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """Numbers as SAS would print them (1, 9.7), missing as empty."""
    names = dataset.names
    yield list(names)
    numeric = [n for n, name in enumerate(names) if name in dataset.numeric]
    for r in records:
        row = [r.get(name) for name in names]
        for n in numeric:
            if row[n] is not None:
                row[n] = f"{row[n]:g}"
        yield row


def ascii_text(text: str) -> str:
    """XPORT v5 is ASCII: fold accents, drop anything else."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _text(value: Any) -> str:
    return ascii_text("" if value is None else str(value))


@dataclass(frozen=True)
class XptLayout:
    """Fixed widths of the character columns, known before the first row is written."""

    dataset: Dataset
    widths: Mapping[str, int]

    def pad(self, record: Mapping[str, Any]) -> dict[str, Any]:
        padded: dict[str, Any] = {}
        for name in self.dataset.names:
            value = record.get(name)
            if name in self.dataset.numeric:
                padded[name] = float("nan") if value is None else float(value)
                continue
            text = _text(value)
            width = self.widths[name]
            if len(text) > width:
                raise ValueError(f"{name} value {text!r} is longer than its width {width}")
            padded[name] = text.ljust(width)
        return padded

    @property
    def row_length(self) -> int:
        return sum(8 if n in self.dataset.numeric else self.widths[n]
                   for n in self.dataset.names)


def measure(dataset: Dataset, records: Iterable[Mapping[str, Any]]) -> XptLayout:
    """The layout whose widths are the longest value of each character column (at least 1)."""
    widths = {n: 1 for n in dataset.names if n not in dataset.numeric}
    for record in records:
        for name in widths:
            length = len(_text(record.get(name)))
            if length > widths[name]:
                widths[name] = length
    too_long = {n: w for n, w in widths.items() if w > MAX_WIDTH}
    if too_long:
        raise ValueError(f"{dataset.name}: values longer than {MAX_WIDTH}: {too_long}")
    return XptLayout(dataset, widths)


def _write_chunk(layout: XptLayout, frame_rows: list[dict[str, Any]], path: str) -> bytes:
    import pandas as pd
    import pyreadstat

    ds = layout.dataset
    frame = pd.DataFrame(frame_rows, columns=list(ds.names))
    pyreadstat.write_xport(frame, path, file_format_version=5, table_name=ds.name,
                           file_label=ds.label, column_labels=dict(ds.columns))
    with open(path, "rb") as f:
        return f.read()


def _split(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.index(_OBS_HEADER) + 80
    return raw[:at], raw[at:]


def xpt_stream(records: Iterable[Mapping[str, Any]], layout: XptLayout,
               chunk_rows: int | None = None) -> Iterator[bytes]:
    """The XPT file, in chunks; the header comes from a one-row template of the layout."""
    chunk_rows = chunk_rows or XPT_CHUNK
    row_length = layout.row_length
    written = 0
    with tempfile.TemporaryDirectory(prefix="sdtm-xpt-") as tmp:
        path = os.path.join(tmp, "chunk.xpt")
        header, _ = _split(_write_chunk(layout, [layout.pad({})], path))
        yield header
        chunk: list[dict[str, Any]] = []

        def flush() -> bytes:
            return _split(_write_chunk(layout, chunk, path))[1][: len(chunk) * row_length]

        for record in records:
            chunk.append(layout.pad(record))
            if len(chunk) >= chunk_rows:
                data = flush()
                written += len(data)
                yield data
                chunk = []
        if chunk:
            data = flush()
            written += len(data)
            yield data
    yield b" " * (-written % 80)


def xpt_two_pass(dataset: Dataset, records: Callable[[], Iterable[Mapping[str, Any]]],
                 chunk_rows: int | None = None) -> Iterator[bytes]:
    """Measure the widths on one pass of `records()`, write the file on a second."""
    layout = measure(dataset, records())
    return xpt_stream(records(), layout, chunk_rows)
