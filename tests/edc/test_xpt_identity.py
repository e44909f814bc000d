"""The SDTM files of a varied study are byte for byte what the writer of commit 2d85eb9
wrote (before QS records were packed from shared pieces and the header written here):
accented text, not-applicable follow-ups, multi-choice, NOT DONE records (missed with a
reason, cancelled, and not yet done), a correction, both baseline flags, EX and DS. The
digests were taken from that commit's output on this same data; only the header's creation
and modification times (now) are masked. They read back in pyreadstat and pandas."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import timedelta

import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import select

from pro_server.edc import xpt
from pro_server.edc.exports import Export
from pro_server.participants.models import Participant
from pro_server.schedule.assessments import cancel
from pro_server.schedule.missed import record_missed_reason
from pro_server.studies.models import Study
from tests.edc import support

_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")

# (domain, SDTMIG): (XPT digest, CSV digest)
EXPECTED: dict[tuple[str, str], tuple[str, str]] = {
    ("ds", "3.3"): ("a4e0ae70832cec650685f220ac58ae6fed2c1cab0304ebbacef67ec9f9e142ed",
                    "5bef28a4d3bdaebfa7041ccf871acc63a5caa8693521c8ecae879b1cd9abae84"),
    ("ds", "3.4"): ("a4e0ae70832cec650685f220ac58ae6fed2c1cab0304ebbacef67ec9f9e142ed",
                    "5bef28a4d3bdaebfa7041ccf871acc63a5caa8693521c8ecae879b1cd9abae84"),
    ("ex", "3.3"): ("d3521fa52f55456f083d768f93b9c309da8548da73bfeec98021f777310e174c",
                    "9fc8c23e5af0b4eeb5e15d6b68506be645b39a805d9beffffcbd921501aada8f"),
    ("ex", "3.4"): ("d3521fa52f55456f083d768f93b9c309da8548da73bfeec98021f777310e174c",
                    "9fc8c23e5af0b4eeb5e15d6b68506be645b39a805d9beffffcbd921501aada8f"),
    ("qs", "3.3"): ("32fed4c95c9bf43f38db1065e23de8f3dde9f2c3f7eca80a228f624bfd4ef6f2",
                    "98c8a97f26a3f1d8cda01169357aaa1fdab78bbac1f1c2739ba9cd966651be1e"),
    ("qs", "3.4"): ("d3727e07eedc846f14e4028a4d4dfd7df98c966fc8cc9d6384b6ff805e3c9531",
                    "7e27ba2894e03e361e6044fc1550a0de0dc0ff38db334facf6c45039e622f160"),
}


def _digest(data: bytes) -> str:
    head, body = data[:640], data[640:]  # the library and member headers
    return hashlib.sha256(_STAMP.sub(b"DDMMMYY:HH:MM:SS", head) + body).hexdigest()


@pytest.fixture
def varied(edc, ctx_factory, clock):
    ctx = ctx_factory()
    people = {p.subject_key: p for p in ctx.session.scalars(
        select(Participant).where(Participant.subject_key.like("EDC-%")))}
    support.correct(ctx, support.current(ctx, people["EDC-M01"], "BASELINE", "haq_di"),
                    "dress", 3)
    missed = support.assessment(ctx, people["EDC-G02"], "INF1_D30")
    cancel(ctx, support.assessment(ctx, people["EDC-M01"], "INF1_D30"),
           "Paciente hospitalizada — señal perdida, ¿mañana?", cause="coordinator")
    clock.set(missed.window_end + timedelta(days=1))
    record_missed_reason(ctx, missed, "other", "Ingresó en el hospital (Málaga)",
                         timedelta(hours=12))
    ctx.session.commit()
    clock.advance(timedelta(minutes=1))
    study = ctx.session.scalar(select(Study).where(Study.id == edc.study_id))
    return ctx.session, study, clock.now()


@pytest.mark.parametrize("sdtmig", ["3.3", "3.4"])
@pytest.mark.parametrize("domain", ["qs", "ex", "ds"])
def test_the_xpt_files_are_byte_for_byte_the_earlier_writers(varied, sdtmig, domain,
                                                            tmp_path):
    session, study, now = varied
    export = Export(session, study, now, sdtmig=sdtmig)
    data = b"".join(export.sdtm_xpt(domain))
    csv = b"".join(export.sdtm_csv(domain))
    path = tmp_path / f"{domain}.xpt"
    path.write_bytes(data)
    frame, _ = pyreadstat.read_xport(str(path))
    theirs = pd.read_sas(str(path), format="xport", encoding="ascii")
    assert list(frame.columns) == list(theirs.columns)
    assert len(frame) == len(theirs) > 0
    for name in frame.columns:
        for ours, pandas in zip(frame[name], theirs[name], strict=True):
            if isinstance(ours, float):
                assert (math.isnan(ours) and math.isnan(pandas)) or math.isclose(
                    ours, pandas, rel_tol=1e-15, abs_tol=1e-70)
            else:
                assert ours == pandas.rstrip()
    assert (_digest(data), hashlib.sha256(csv).hexdigest()) == EXPECTED[(domain, sdtmig)]


@pytest.mark.parametrize("chunk_rows", [1, 7, 10_000])
def test_qs_from_pieces_is_the_file_of_its_records_in_any_chunking(varied, chunk_rows,
                                                                   monkeypatch):
    # the same records (the CSV's) through the record-by-record writer that EX and DS use
    monkeypatch.setattr(xpt, "XPT_CHUNK", chunk_rows)
    session, study, now = varied
    export = Export(session, study, now, sdtmig="3.4")
    dataset, records = export._sdtm("qs")
    pieces = list(export.sdtm_xpt("qs"))
    assert len(pieces) > (2 if chunk_rows < 10 else 1)
    whole = b"".join(xpt.xpt_two_pass(dataset, records))
    assert _digest(b"".join(pieces)) == _digest(whole)
