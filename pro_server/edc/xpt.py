"""SDTM-style datasets as CSV rows and SAS XPORT v5 (pure: records in, bytes out).

A `Dataset` names its variables, their labels and which are numeric; every dataset we
produce (QS, EX, DS) goes through the same writers.

XPORT (SAS TS-140): the header records (library, member, NAMESTR per variable) are written
here as pyreadstat writes them (no pandas in the export process); the observations are
packed as TS-140 lays them out: each variable in order, a character value in ASCII padded
with blanks to its column's fixed width (SAS drops trailing blanks on reading), a number as
an 8-byte IBM System/370 double (missing: "." then seven zero bytes), rows back to back, the
last 80-byte record padded with blanks. The widths are the longest value each column
actually holds (the FDA Technical Conformance Guide asks that character variables not be
padded beyond it), so they are known only once every record was seen: the first pass over
the records measures them and spools the records to a temporary file, the second packs the
spooled records. Both passes hold one chunk at most, however large the study.

QS has ~20 records per response that differ only in the test and its result: `xpt_groups`
spools a response as its shared values and the ids of its records' distinct middles, each
encoded and padded once (sdtm.py numbers them), and joins the bytes of a response's records
in C.
"""

from __future__ import annotations

import math
import pickle
import struct
import tempfile
import time
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import call
from typing import Any

XPT_CHUNK = 2_000  # observations per yielded chunk and per spooled pickle: memory
MAX_WIDTH = 200  # SDTM character variables are at most 200 bytes in XPORT v5


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


def _layout(dataset: Dataset, widths: dict[str, int]) -> XptLayout:
    too_long = {n: w for n, w in widths.items() if w > MAX_WIDTH}
    if too_long:
        raise ValueError(f"{dataset.name}: values longer than {MAX_WIDTH}: {too_long}")
    return XptLayout(dataset, widths)


def measure(dataset: Dataset, records: Iterable[Mapping[str, Any]]) -> XptLayout:
    """The layout whose widths are the longest value of each character column (at least 1)."""
    widths = {n: 1 for n in dataset.names if n not in dataset.numeric}
    for record in records:
        for name in widths:
            length = len(_text(record.get(name)))
            if length > widths[name]:
                widths[name] = length
    return _layout(dataset, widths)


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


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
           "DEC")


def _stamp(at: time.struct_time) -> bytes:
    """A header date-time as SAS writes it: 06DEC26:04:43:07."""
    return (f"{at.tm_mday:02d}{_MONTHS[at.tm_mon - 1]}{at.tm_year % 100:02d}:"
            f"{at.tm_hour:02d}:{at.tm_min:02d}:{at.tm_sec:02d}").encode()


def _field(text: str, width: int) -> bytes:
    return text.encode("ascii").ljust(width)[:width]


def _record(*fields: bytes) -> bytes:
    data = b"".join(fields)
    assert len(data) == 80, data
    return data


def _header_record(kind: str, numbers: str) -> bytes:
    return _record(f"HEADER RECORD*******{kind:8}HEADER RECORD!!!!!!!{numbers}  ".encode())


def header(layout: XptLayout, created: time.struct_time | None = None) -> bytes:
    """Library, member and variable (NAMESTR) headers through OBS, as TS-140 lays them out
    (and as pyreadstat, which wrote them before, fills them): a variable's NAMESTR is its
    type, length, number, name, label and position in the row, no formats; `created`: the
    local time of the library and member dates (now)."""
    ds = layout.dataset
    stamp = _stamp(created or time.localtime())
    sas = b"SAS     "
    release = b"6.06    bsd4.2  "
    namestrs, position = [], 0
    for number, (name, label) in enumerate(ds.columns, start=1):
        numeric = name in ds.numeric
        length = 8 if numeric else layout.widths[name]
        namestrs.append(struct.pack(
            ">hhhh8s40s8shhhh8shhi52x", 1 if numeric else 2, 0, length, number,
            _field(name, 8), _field(label, 40), b" " * 8, 0, 0, 1 if numeric else 0, 0,
            b" " * 8, 0, 0, position))
        position += length
    variables = b"".join(namestrs)
    return b"".join((
        _header_record("LIBRARY", "0" * 30),
        _record(sas, sas, b"SASLIB  ", release, b" " * 24, stamp),
        _record(stamp, b" " * 64),
        _header_record("MEMBER", "000000000000000001600000000140"),
        _header_record("DSCRPTR", "0" * 30),
        _record(sas, _field(ds.name, 8), b"SASDATA ", release, b" " * 24, stamp),
        _record(stamp, b" " * 16, _field(ds.label, 40), b" " * 8),
        _header_record("NAMESTR", f"000000{len(ds.columns):04d}" + "0" * 20),
        variables + b" " * (-len(variables) % 80),
        _header_record("OBS", "0" * 30),
    ))


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
    yield header(layout)
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
    return _layout(dataset, widths)


def _pickled(spool: Any) -> Iterator[Any]:
    """What was pickled to `spool`, one pickle after the other; the spool closed after."""
    spool.seek(0)
    try:
        while True:
            try:
                yield pickle.load(spool)  # noqa: S301 - our own spool, written just now
            except EOFError:
                return
    finally:
        spool.close()


def _unspool(spool: Any) -> Iterator[Any]:
    for chunk in _pickled(spool):
        yield from chunk


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



# --- records in groups ----------------------------------------------------------------------

Group = tuple[tuple[Any, ...], int, Sequence[int], tuple[Any, ...]]
"""Records that share their leading and trailing values (QS: one response's tests):
(head values, the number of the group's first record, the ids of its records' middles,
tail values). A record's variables are the head's, its number, its middle's, the tail's."""


@dataclass(frozen=True)
class GroupLayout:
    """How a dataset's variables split into head, record number, middle and tail."""

    dataset: Dataset
    head: int  # the number of head variables; the record number follows them
    middle: int  # the number of middle variables; the tail's follow them

    def names(self, part: str) -> tuple[str, ...]:
        names, at = self.dataset.names, self.head + 1 + self.middle
        return {"head": names[:self.head], "middle": names[self.head + 1:at],
                "tail": names[at:]}[part]

    def encoders(self, part: str) -> list[Callable[[Any], bytes]]:
        return [_number if name in self.dataset.numeric else _ascii
                for name in self.names(part)]


def xpt_groups(split: GroupLayout, groups: Callable[[], Iterable[Group]],
               middles: Sequence[tuple[Any, ...]], chunk_rows: int | None = None
               ) -> Iterator[bytes]:
    """The file `xpt_two_pass` writes for the records of `groups()`, built from pieces: a
    middle (the values that depend only on the test and its result) is encoded, measured
    and padded once however many records share it, a head once per distinct head, and the
    records of a group are its head, their numbers and their middles joined, in C.
    `middles`: the middles by id, complete once `groups()` was read."""
    chunk_rows = chunk_rows or XPT_CHUNK
    spool = tempfile.TemporaryFile(prefix="sdtm-xpt-")  # noqa: SIM115 - closed by _unspool
    try:
        widths = {n: 1 for n in split.dataset.names if n not in split.dataset.numeric}
        heads = _spool_groups(split, groups(), spool, chunk_rows, widths)
        encoded = _encode(split.encoders("middle"), middles)
        _measure(split, "middle", encoded, widths)
        layout = _layout(split.dataset, widths)
    except BaseException:
        spool.close()
        raise
    return _write_groups(split, layout, heads, encoded, _pickled(spool))


def _encode(encoders: list[Callable[[Any], bytes]], rows: Iterable[tuple[Any, ...]]
            ) -> list[tuple[bytes, ...]]:
    return [tuple([encode(v) for encode, v in zip(encoders, row, strict=True)])
            for row in rows]


def _measure(split: GroupLayout, part: str, rows: Sequence[tuple[bytes, ...]],
             widths: dict[str, int]) -> None:
    """Widen `widths` to the longest encoded value of each character column of `rows`."""
    if rows:
        for name, column in zip(split.names(part), zip(*rows, strict=True), strict=True):
            if name in widths:
                widths[name] = max(widths[name], max(map(len, column)))


SpooledGroups = tuple[list[tuple[int, int, int, tuple[bytes, ...]]], array]
"""A spooled chunk of groups: each group's head id, first number, record count and encoded
tail; and the middle ids of all their records, in order (one array: no int per id to
pickle and read back)."""


def _spool_groups(split: GroupLayout, groups: Iterable[Group], spool: Any, chunk_rows: int,
                  widths: dict[str, int]) -> list[tuple[bytes, ...]]:
    """Spool the groups in chunks (`SpooledGroups`) of about `chunk_rows` records,
    widening `widths` to their heads and tails; the distinct encoded heads, by id."""
    head_encoders, tail_encoders = split.encoders("head"), split.encoders("tail")
    heads: list[tuple[bytes, ...]] = []
    head_ids: dict[tuple[Any, ...], int] = {}
    chunk: list[tuple[int, int, int, tuple[bytes, ...]]] = []
    ids_of_chunk = array("L")

    def flush() -> None:
        _measure(split, "tail", [tail for *_, tail in chunk], widths)
        pickle.dump((chunk, ids_of_chunk), spool, protocol=pickle.HIGHEST_PROTOCOL)

    last_tail: tuple[Any, ...] | None = None
    encoded: tuple[bytes, ...] = ()
    for head, first, ids, tail in groups:
        if not ids:
            continue
        hid = head_ids.get(head)
        if hid is None:
            hid = head_ids[head] = len(heads)
            heads.extend(_encode(head_encoders, [head]))
        if tail != last_tail:  # the groups of one visit come together: encoded once
            last_tail = tail
            if len(tail) != len(tail_encoders):
                raise ValueError(f"a group's tail has {len(tail)} values, not {len(tail_encoders)}")
            encoded = tuple(map(call, tail_encoders, tail))  # a tail per instrument: in C
        chunk.append((hid, first, len(ids), encoded))
        ids_of_chunk.extend(ids)
        if len(ids_of_chunk) >= chunk_rows:
            flush()
            chunk, ids_of_chunk = [], array("L")
    if chunk:
        flush()
    _measure(split, "head", heads, widths)
    return heads


def _padder(layout: XptLayout, names: Sequence[str]) -> Callable[[tuple[bytes, ...]], bytes]:
    widths = [8 if name in layout.dataset.numeric else layout.widths[name] for name in names]
    ljust, join = bytes.ljust, b"".join
    return lambda values: join(map(ljust, values, widths))


def _write_groups(split: GroupLayout, layout: XptLayout, heads: list[tuple[bytes, ...]],
                  middles: list[tuple[bytes, ...]], chunks: Iterable[SpooledGroups]
                  ) -> Iterator[bytes]:
    """Header, then the records of each spooled chunk, joined in C."""
    padded_heads = list(map(_padder(layout, split.names("head")), heads))
    padded = list(map(_padder(layout, split.names("middle")), middles))
    tail_bytes = _padder(layout, split.names("tail"))
    numbers = [_number(None)]  # numbers[n]: n as a double, grown as needed
    yield header(layout)
    written = 0
    for groups, ids in chunks:
        chunk: list[bytes] = []
        records = list(map(padded.__getitem__, ids))  # the chunk's records' middles
        at = 0
        for hid, first, count, tail_values in groups:
            while len(numbers) < first + count:
                numbers.append(ibm_double(float(len(numbers))))
            head, tail = padded_heads[hid], tail_bytes(tail_values)
            # the head, then per record: its number, its middle, the tail and the next head
            pieces = [tail + head] * (3 * count)
            pieces[0::3] = numbers[first:first + count]
            pieces[1::3] = records[at:at + count]
            pieces[-1] = tail
            chunk.append(head)
            chunk += pieces
            at += count
        data = b"".join(chunk)
        written += len(data)
        yield data
    yield b" " * (-written % 80)
