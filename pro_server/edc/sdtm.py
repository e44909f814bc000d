"""SDTM QS (Questionnaires) from the current response versions, as CSV and SAS XPORT v5.

One record per subject, assessment, instrument and test: each item, each option of a
multi-choice item ("check all that apply": Y/N), and each score. Scores are derived by this
system with the algorithm named in its ODM MethodDef, so they carry QSDRVFL = "Y" and their
value in QSORRES/QSSTRESC/QSSTRESN. A test with no result has QSSTAT = "NOT DONE" and the
reason in QSREASND. The mapping is documented in docs/edc-mapping.md.

XPORT: pyreadstat writes each chunk of rows; every character value is padded to its
column's fixed width (SAS drops trailing blanks on reading), so all chunks share one layout
and their observation bytes can be concatenated behind the header of the first. Memory
stays bounded by the chunk size, however large the study.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pro_server.edc import catalogue as cat
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import Row
from pro_server.instruments.answers import item_applies
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.protocol.windows import utc_to_local

COLUMNS: tuple[tuple[str, str], ...] = (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("QSSEQ", "Sequence Number"),
    ("QSTESTCD", "Question Short Name"),
    ("QSTEST", "Question Name"),
    ("QSCAT", "Category of Question"),
    ("QSSCAT", "Subcategory for Question"),
    ("QSORRES", "Finding in Original Units"),
    ("QSSTRESC", "Character Result/Finding in Std Format"),
    ("QSSTRESN", "Numeric Finding in Standard Units"),
    ("QSSTAT", "Completion Status"),
    ("QSREASND", "Reason Not Performed"),
    ("QSDRVFL", "Derived Flag"),
    ("VISITNUM", "Visit Number"),
    ("VISIT", "Visit Name"),
    ("QSDTC", "Date/Time of Finding"),
    ("QSEVLINT", "Evaluation Interval"),
)
NAMES = tuple(name for name, _ in COLUMNS)
NUMERIC = frozenset({"QSSEQ", "QSSTRESN", "VISITNUM"})
NOT_DONE = "NOT DONE"
RESULT_WIDTH = 20  # scores and integers as text ("100.00", "-12.5")
XPT_CHUNK = 20_000


def _result(value: Any) -> tuple[str, str, float | None]:
    text = str(value)
    return text, text, float(value)


def _local_dtc(at: Any, tz: str) -> str:
    return utc_to_local(at, tz).replace(tzinfo=None, microsecond=0).isoformat()


def response_records(catalogue: StudyCatalogue, d: InstrumentDefinition, row: Row, *,
                     items: bool = True, scores: bool = True) -> Iterator[dict[str, Any]]:
    """QS records (without QSSEQ) of one response version."""
    event = catalogue.event(row["assessment_code"])
    common = {"STUDYID": catalogue.study_code, "DOMAIN": "QS",
              "USUBJID": f"{catalogue.study_code}-{row['subject_key']}",
              "QSCAT": d.sdtm_qscat, "VISITNUM": float(event.visitnum), "VISIT": event.visit,
              "QSDTC": _local_dtc(row["submitted_at"], row["timezone"]),
              "QSEVLINT": d.recall_period.iso8601 or "", "QSDRVFL": ""}
    answers: Mapping[str, Any] = {k: v["value"] for k, v in (row["answers"] or {}).items()}
    for test in cat.qs_tests(d):
        record = {**common, "QSTESTCD": test.testcd, "QSTEST": test.test,
                  "QSSCAT": test.section or "", "QSORRES": "", "QSSTRESC": "",
                  "QSSTRESN": None, "QSSTAT": "", "QSREASND": ""}
        if test.score is not None:
            if not scores:
                continue
            result = row["scores"]["scores"][test.score.key]
            record["QSDRVFL"] = "Y"
            if result["value_text"] is None:
                record.update(QSSTAT=NOT_DONE,
                              QSREASND=str(result["reason"]).replace("_", " ").upper())
            else:
                orres, stresc, stresn = _result(result["value_text"])
                record.update(QSORRES=orres, QSSTRESC=stresc, QSSTRESN=stresn)
            yield record
            continue
        if not items:
            continue
        item = test.item
        assert item is not None
        value = answers.get(item.id)
        if value is None:
            reason = "NOT APPLICABLE" if not item_applies(item, answers) else "NOT ANSWERED"
            record.update(QSSTAT=NOT_DONE, QSREASND=reason)
        elif test.option is not None:
            checked = cat.CHECKED if test.option in value else cat.NOT_CHECKED
            record.update(QSORRES=checked, QSSTRESC=checked)
        elif item.type == "single_choice":
            label = next(o.label["en"] for o in item.options if o.code == value)
            record.update(QSORRES=" ".join(label.split()), QSSTRESC=str(value),
                          QSSTRESN=float(value))
        else:
            orres, stresc, stresn = _result(value)
            record.update(QSORRES=orres, QSSTRESC=stresc, QSSTRESN=stresn)
        yield record


def qs_records(catalogue: StudyCatalogue, rows: Iterable[Row], definitions: Any, *,
               items: bool = True, scores: bool = True) -> Iterator[dict[str, Any]]:
    """Every QS record, QSSEQ numbered per subject (rows come ordered by subject)."""
    subject, seq = None, 0
    for row in rows:
        if row["subject_key"] != subject:
            subject, seq = row["subject_key"], 0
        d = definitions(row["instrument_code"], row["instrument_version"])
        for record in response_records(catalogue, d, row, items=items, scores=scores):
            seq += 1
            record["QSSEQ"] = float(seq)
            yield record


def csv_rows(records: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """Numbers as SAS would print them (1, 9.7), missing as empty."""
    yield list(NAMES)
    numeric = [n for n, name in enumerate(NAMES) if name in NUMERIC]
    for r in records:
        row = [r[name] for name in NAMES]
        for n in numeric:
            if row[n] is not None:
                row[n] = f"{row[n]:g}"
        yield row


# --- SAS XPORT v5 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class XptLayout:
    """Fixed widths of the character columns, known before the first row is read."""

    widths: Mapping[str, int]

    def pad(self, record: Mapping[str, Any]) -> dict[str, Any]:
        padded: dict[str, Any] = {}
        for name in NAMES:
            value = record[name]
            if name in NUMERIC:
                padded[name] = float("nan") if value is None else float(value)
                continue
            text = _ascii("" if value is None else str(value))
            width = self.widths[name]
            if len(text) > width:
                raise ValueError(f"{name} value {text!r} is longer than its width {width}")
            padded[name] = text.ljust(width)
        return padded


def _ascii(text: str) -> str:
    """XPORT v5 is ASCII: fold accents, drop anything else."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def xpt_layout(catalogue: StudyCatalogue, max_subject_key: int) -> XptLayout:
    """Widths from the metadata: the longest value each column can take (FDA asks for this)."""
    tests = [t for d in catalogue.definitions for t in cat.qs_tests(d)]
    labels = [" ".join(o.label["en"].split()) for d in catalogue.definitions
              for i in d.items for o in i.options]
    widths = {
        "STUDYID": len(catalogue.study_code), "DOMAIN": 2,
        "USUBJID": len(catalogue.study_code) + 1 + max(max_subject_key, 1),
        "QSTESTCD": max(len(t.testcd) for t in tests),
        "QSTEST": max(len(t.test) for t in tests),
        "QSCAT": max(len(d.sdtm_qscat) for d in catalogue.definitions),
        "QSSCAT": max(len(t.section or "") for t in tests),
        "QSORRES": max([RESULT_WIDTH, *map(len, labels)]),
        "QSSTRESC": RESULT_WIDTH, "QSSTAT": len(NOT_DONE), "QSREASND": 40, "QSDRVFL": 1,
        "VISIT": max([len(e.visit) for e in catalogue.events] + [8]),
        "QSDTC": 19,
        "QSEVLINT": max([len(d.recall_period.iso8601 or "") for d in catalogue.definitions]
                        + [1]),
    }
    return XptLayout({k: min(max(v, 1), 200) for k, v in widths.items()})


_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"


def _write_chunk(frame_rows: list[dict[str, Any]], path: str) -> bytes:
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame(frame_rows, columns=list(NAMES))
    pyreadstat.write_xport(frame, path, file_format_version=5, table_name="QS",
                           file_label="Questionnaires",
                           column_labels=dict(COLUMNS))
    with open(path, "rb") as f:
        return f.read()


def _split(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.index(_OBS_HEADER) + 80
    return raw[:at], raw[at:]


def xpt_stream(records: Iterable[Mapping[str, Any]], layout: XptLayout,
               chunk_rows: int | None = None) -> Iterator[bytes]:
    """The XPT file, in chunks; the header comes from a one-row template of the layout."""
    chunk_rows = chunk_rows or XPT_CHUNK
    row_length = sum(8 if n in NUMERIC else layout.widths[n] for n in NAMES)
    written = 0
    with tempfile.TemporaryDirectory(prefix="qs-xpt-") as tmp:
        path = os.path.join(tmp, "chunk.xpt")
        template = layout.pad({n: None if n in NUMERIC else "" for n in NAMES})
        header, _ = _split(_write_chunk([template], path))
        yield header
        chunk: list[dict[str, Any]] = []
        for record in records:
            chunk.append(layout.pad(record))
            if len(chunk) >= chunk_rows:
                data = _split(_write_chunk(chunk, path))[1][: len(chunk) * row_length]
                written += len(data)
                yield data
                chunk = []
        if chunk:
            data = _split(_write_chunk(chunk, path))[1][: len(chunk) * row_length]
            written += len(data)
            yield data
    yield b" " * (-written % 80)
