"""The XPORT v5 writer writes the headers and packs the observations itself (TS-140); what it
writes must be what pyreadstat writes for the same data, and read back the same in
pyreadstat and pandas."""

from __future__ import annotations

import math
import time

import pandas as pd
import pyreadstat
import pytest

from pro_server.edc import participation, sdtm, xpt

DATASET = xpt.Dataset(
    "QS", "Questionnaires",
    (("USUBJID", "Unique Subject Identifier"),
     ("QSTEST", "A label of exactly forty characters long!"[:40]),
     ("QSSTRESN", "Numeric Finding in Standard Units"),
     ("QSORRES", "Finding in Original Units"),
     ("QSDY", "Study Day of Finding")),
    frozenset({"QSSTRESN", "QSDY"}))
NUMBERS = [1.0, None, -2.5, 0.0, 9.7, 123456.789, 1e-5, -0.1, 1 / 3, 2.0 ** 200, -7.0]
# Rows longer than 80 bytes, as QS rows are: for shorter rows pandas guesses the row count
# from blanks in the last 80-byte record, and can take a row's own blanks for padding.
RECORDS = [{"USUBJID": f"S-{n:03d}",
            "QSTEST": "Pain — señal" if n % 3 == 0 else "x" * (n * 7),
            "QSSTRESN": value, "QSORRES": "" if value is None else f"{value:g}",
            "QSDY": None if n % 4 == 0 else float(n - 5)}
           for n, value in enumerate(NUMBERS)]


def _written(tmp_path, chunk_rows: int = 4) -> bytes:
    data = b"".join(xpt.xpt_two_pass(DATASET, lambda: iter(RECORDS), chunk_rows))
    (tmp_path / "qs.xpt").write_bytes(data)
    return data


def test_the_file_is_byte_for_byte_what_pyreadstat_writes(tmp_path):
    layout = xpt.measure(DATASET, RECORDS)
    frame = pd.DataFrame([layout.pad(r) for r in RECORDS], columns=list(DATASET.names))
    path = tmp_path / "theirs.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name="QS",
                           file_label=DATASET.label, column_labels=dict(DATASET.columns))
    theirs = path.read_bytes()
    # pyreadstat dates the file now; ours, given the same time, must be the same bytes
    created = time.strptime(theirs[144:160].decode().title(), "%d%b%y:%H:%M:%S")
    head = xpt.header(layout, created)
    assert theirs[:len(head)] == head
    ours = _written(tmp_path)
    assert head[640:] + ours[len(head):] == theirs[640:]


@pytest.mark.parametrize("reader", ["pyreadstat", "pandas"])
def test_the_file_reads_back_with_labels_missing_values_and_widths(tmp_path, reader):
    data = _written(tmp_path)
    assert len(data) % 80 == 0
    path = str(tmp_path / "qs.xpt")
    if reader == "pyreadstat":
        frame, meta = pyreadstat.read_xport(path)
        assert meta.column_names_to_labels["QSTEST"] == DATASET.columns[1][1]
        assert meta.table_name == "QS"
        text = lambda v: v  # noqa: E731
    else:
        frame = pd.read_sas(path, format="xport", encoding="ascii")
        text = lambda v: v.rstrip()  # noqa: E731 - pandas keeps the blanks of the width
    assert list(frame.columns) == list(DATASET.names)
    assert len(frame) == len(RECORDS)
    for n, record in enumerate(RECORDS):
        row = frame.iloc[n]
        for name in ("QSSTRESN", "QSDY"):
            if record[name] is None:
                assert math.isnan(row[name])
            elif reader == "pandas":  # pandas reads an IBM zero (all zero bytes) as 5e-79
                assert math.isclose(row[name], record[name], rel_tol=1e-15, abs_tol=1e-70)
            else:
                assert row[name] == record[name]
        assert text(row["USUBJID"]) == record["USUBJID"]
        assert text(row["QSTEST"]) == xpt.ascii_text(record["QSTEST"])  # ñ folded, — dropped
        assert text(row["QSORRES"]) == record["QSORRES"]


def test_a_value_longer_than_its_width_or_out_of_range_is_refused():
    with pytest.raises(ValueError, match="longer than"):
        b"".join(xpt.xpt_stream([{"USUBJID": "too long"}], xpt.XptLayout(
            DATASET, {"USUBJID": 3, "QSTEST": 1, "QSORRES": 1})))
    with pytest.raises(ValueError, match="range"):
        xpt.ibm_double(1e300)


@pytest.mark.parametrize("dataset", [sdtm.qs_dataset("3.3"), sdtm.qs_dataset("3.4"),
                                     participation.EX, participation.DS],
                         ids=["QS 3.3", "QS 3.4", "EX", "DS"])
def test_the_header_is_what_pyreadstat_writes_for_every_sdtm_dataset(tmp_path, dataset):
    layout = xpt.XptLayout(dataset, {n: len(n) * 7 % 200 + 1 for n in dataset.names
                                     if n not in dataset.numeric})
    path = tmp_path / "theirs.xpt"
    frame = pd.DataFrame([layout.pad({})], columns=list(dataset.names))
    pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name=dataset.name,
                           file_label=dataset.label, column_labels=dict(dataset.columns))
    theirs = path.read_bytes()
    created = time.strptime(theirs[144:160].decode().title(), "%d%b%y:%H:%M:%S")
    head = xpt.header(layout, created)
    assert theirs[:len(head)] == head
    assert theirs[len(head) - 80:len(head)].startswith(b"HEADER RECORD*******OBS")
