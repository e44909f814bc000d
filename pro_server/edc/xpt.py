"""SDTM-style datasets as CSV rows and SAS XPORT v5 (pure: records in, bytes out).

A `Dataset` names its variables, their labels and which are numeric; every dataset we
produce (QS, EX, DS) goes through the same writers.

XPORT (SAS TS-140): the header records (library, member, NAMESTR per variable) come from
pyreadstat, writing a one-row template of the layout; the observations are packed here, row
by row, as TS-140 lays them out: each variable in order, a character value in ASCII padded
with blanks to its column's fixed width (SAS drops trailing blanks on reading), a number as
an 8-byte IBM System/370 double (missing: "." then seven zero bytes), rows back to back, the
last 80-byte record padded with blanks. The widths are the longest value each column
actually holds (the FDA Technical Conformance Guide asks that character variables not be
padded beyond it), so they are known only once every record was seen: the first pass over
the records measures them and spools the records to a temporary file, the second packs the
spooled records. Both passes hold one chunk at most, however large the study.
"""

from __future__ import annotations

import math
import os
import pickle
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

XPT_CHUNK = 2_000  # observations per yielded chunk and per spooled pickle: memory
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


_MISSING = b"." + bytes(7)  # SAS missing value "." (TS-140)
_ZERO = bytes(8)
_Q = struct.Struct(">Q")


def ibm_double(value: float | None) -> bytes:
    """An IEEE double as the 8-byte IBM System/370 double of XPORT (TS-140); None and NaN
    are the missing value ".". Exact: 53 bits of mantissa fit the 56 of a hex fraction."""
    if value is None or value != value:
        return _MISSING
    if value == 0:
        return _ZERO
    mantissa, exponent = math.frexp(abs(value))  # value = mantissa * 2**exponent
    hex_exponent = -(-exponent // 4)  # value = fraction * 16**hex_exponent, 1/16 <= f < 1
    if not -64 <= hex_exponent <= 63:
        raise ValueError(f"{value!r} is out of the range of an IBM double")
    fraction = int(math.ldexp(mantissa, 56 + exponent - 4 * hex_exponent))
    sign = 0x80 if value < 0 else 0
    return _Q.pack(((sign | (hex_exponent + 64)) << 56) | fraction)


def _header(layout: XptLayout) -> bytes:
    """Library, member and variable headers through OBS, from pyreadstat (one-row template)."""
    with tempfile.TemporaryDirectory(prefix="sdtm-xpt-") as tmp:
        return _split(_write_chunk(layout, [layout.pad({})], os.path.join(tmp, "head.xpt")))[0]


@lru_cache(maxsize=4096)
def _number(value: Any) -> bytes:
    return ibm_double(None if value is None else float(value))


@lru_cache(maxsize=4096)
def _ascii(value: Any) -> bytes:
    return _text(value).encode("ascii")


def _encoded(dataset: Dataset, records: Iterable[Mapping[str, Any]]
             ) -> Iterator[tuple[bytes, ...]]:
    """Each record as its values' bytes, in variable order: numbers as IBM doubles,
    characters as ASCII not yet padded (the values repeat: both are cached)."""
    columns = [(name, _number if name in dataset.numeric else _ascii) for name in dataset.names]
    for record in records:
        get = record.get
        yield tuple([encode(get(name)) for name, encode in columns])


def _write(rows: Iterable[tuple[bytes, ...]], layout: XptLayout, chunk_rows: int
           ) -> Iterator[bytes]:
    """Header, then the observations: each value padded with blanks to its column's width."""
    ds = layout.dataset
    widths = [8 if name in ds.numeric else layout.widths[name] for name in ds.names]
    row_length, ljust, join = layout.row_length, bytes.ljust, b"".join
    yield _header(layout)
    written = 0
    chunk: list[bytes] = []
    for values in rows:
        row = join(map(ljust, values, widths))  # ljust never cuts: a long value shows here
        if len(row) != row_length or len(values) != len(widths):
            _too_long(ds, values, widths)
        chunk.append(row)
        if len(chunk) >= chunk_rows:
            data = b"".join(chunk)
            written += len(data)
            yield data
            chunk = []
    data = b"".join(chunk)
    written += len(data)
    yield data
    yield b" " * (-written % 80)


def _too_long(dataset: Dataset, values: tuple[bytes, ...], widths: list[int]) -> None:
    for name, width, value in zip(dataset.names, widths, values, strict=True):
        if len(value) > width:
            raise ValueError(f"{name} value {value!r} is longer than its width {width}")


def xpt_stream(records: Iterable[Mapping[str, Any]], layout: XptLayout,
               chunk_rows: int | None = None) -> Iterator[bytes]:
    """The XPT file, in chunks of `chunk_rows` observations."""
    return _write(_encoded(layout.dataset, records), layout, chunk_rows or XPT_CHUNK)


def _spool(dataset: Dataset, records: Iterable[Mapping[str, Any]], spool: Any,
           chunk_rows: int) -> XptLayout:
    """Measure the widths while writing the encoded records (pickled in chunks) to
    `spool`; `_unspool` reads them back."""
    measured = [(n, name) for n, name in enumerate(dataset.names)
                if name not in dataset.numeric]
    widths = dict.fromkeys((name for _, name in measured), 1)

    def flush(chunk: list[tuple[bytes, ...]]) -> None:
        columns = list(zip(*chunk, strict=True))  # the longest value per column, in C
        for n, name in measured:
            widths[name] = max(widths[name], max(map(len, columns[n])))
        pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)

    chunk: list[tuple[bytes, ...]] = []
    for values in _encoded(dataset, records):
        chunk.append(values)
        if len(chunk) >= chunk_rows:
            flush(chunk)
            chunk = []
    if chunk:
        flush(chunk)
    too_long = {n: w for n, w in widths.items() if w > MAX_WIDTH}
    if too_long:
        raise ValueError(f"{dataset.name}: values longer than {MAX_WIDTH}: {too_long}")
    return XptLayout(dataset, widths)


def _unspool(spool: Any) -> Iterator[tuple[bytes, ...]]:
    spool.seek(0)
    try:
        while True:
            try:
                chunk = pickle.load(spool)  # noqa: S301 - our own spool, written just now
            except EOFError:
                return
            yield from chunk
    finally:
        spool.close()


def xpt_two_pass(dataset: Dataset, records: Callable[[], Iterable[Mapping[str, Any]]],
                 chunk_rows: int | None = None) -> Iterator[bytes]:
    """Measure the widths on one pass of `records()` while spooling the encoded records to
    a temporary file (now, so an error comes before the first byte), then write the file
    from the spool as it is read: the records are built and encoded once."""
    chunk_rows = chunk_rows or XPT_CHUNK
    spool = tempfile.TemporaryFile(prefix="sdtm-xpt-")  # noqa: SIM115 - closed by _unspool
    try:
        layout = _spool(dataset, records(), spool, chunk_rows)
    except BaseException:
        spool.close()
        raise
    return _write(_unspool(spool), layout, chunk_rows)
