"""Issue 15, items 8-10 and 12: missed and cancelled assessments are QS data (QSALL, NOT
DONE), baseline flag and study days, the infusions (EX) and enrolment / withdrawal (DS) in
CSV, XPT and the JSON pull, and XPT widths that fit the data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pyreadstat
import pytest
from sqlalchemy import select

from pro_server.edc import participation, sdtm
from pro_server.edc.exports import Export
from pro_server.participants.models import Participant
from pro_server.participants.services import withdraw
from pro_server.schedule.infusions import record_infusion
from pro_server.studies.models import Study
from tests.edc import support

BASE = "/api/v1/edc/studies/RES001-DMPM-02"
USUBJID = "RES001-DMPM-02-EDC-"


def _csv(client, edc, path: str) -> list[dict[str, str]]:
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _xpt(client, edc, path: str, tmp_path):
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200
    file = tmp_path / path.rsplit("/", 1)[-1]
    file.write_bytes(response.data)
    return pyreadstat.read_xport(str(file))


def _person(ctx, key: str) -> Participant:
    return ctx.session.scalar(select(Participant).where(Participant.subject_key == key))


@pytest.fixture
def lapsed(edc, clock, ctx_factory):
    """EDC-M01 withdrawn (its open work cancelled); infusion 2 of EDC-G02 not given; the
    clock past the INF1_D30 window, which nobody answered (missed)."""
    ctx = ctx_factory()
    withdraw(ctx, _person(ctx, "EDC-M01"), "Moved out of state")
    g02 = _person(ctx, "EDC-G02")
    ctx.session.commit()
    window_end = support.assessment(ctx, g02, "INF1_D30").window_end
    clock.set(window_end + timedelta(days=1))
    record_infusion(ctx, g02, 2, status="not_given", reason="Fever on the day")
    ctx.session.commit()
    return edc


def test_a_missed_assessment_is_one_not_done_qsall_record_per_instrument(lapsed, client):
    rows = _csv(client, lapsed, "/sdtm/qs.csv")
    missed = [r for r in rows if r["USUBJID"] == USUBJID + "G01"
              and r["VISIT"] == "INFUSION 1 DAY 30"]
    assert missed, "the missed INF1_D30 assessment is not in QS"
    assert {r["QSTESTCD"] for r in missed} == {"QSALL"}
    assert {r["QSTEST"] for r in missed} == {"Questionnaire"}
    assert {r["QSSTAT"] for r in missed} == {"NOT DONE"}
    assert {r["QSREASND"] for r in missed} == {sdtm.MISSED_REASON}
    assert len({r["QSCAT"] for r in missed}) == len(missed)  # one per instrument
    assert all(not r["QSORRES"] and not r["QSDTC"] for r in missed)
    cancelled = [r for r in rows if r["USUBJID"] == USUBJID + "M01" and r["QSTESTCD"] == "QSALL"]
    assert cancelled
    assert {r["QSREASND"] for r in cancelled} == {
        "CANCELLED: participant withdrawn: Moved out of state"}
    for subject in {r["USUBJID"] for r in rows}:
        seqs = [int(r["QSSEQ"]) for r in rows if r["USUBJID"] == subject]
        assert seqs == list(range(1, len(seqs) + 1))
        visits = [int(r["VISITNUM"]) for r in rows if r["USUBJID"] == subject]
        assert visits == sorted(visits)


def test_baseline_flag_study_day_visit_day_and_vas_unit(edc, client):
    rows = [r for r in _csv(client, edc, "/sdtm/qs.csv") if r["USUBJID"].startswith(USUBJID)]
    flagged = [r for r in rows if r["QSBLFL"] == "Y"]
    assert flagged
    assert {r["VISIT"] for r in flagged} == {"BASELINE"}
    assert all(r["QSSTAT"] == "" for r in flagged)
    assert not [r for r in rows if r["VISIT"] == "BASELINE" and r["QSSTAT"] == ""
                and r["QSBLFL"] != "Y"]
    # Infusion 1 was given 50 minutes after the baseline answers: the same day is day 1,
    # so baseline is day 1 too and the Day 7 answers (6 days later) are day 7.
    assert {r["QSDY"] for r in rows if r["VISIT"] == "BASELINE"} == {"1"}
    day7 = [r for r in rows if r["VISIT"] == "INFUSION 1 DAY 7" and r["QSTESTCD"] != "QSALL"]
    assert {r["VISITDY"] for r in day7} == {"8"}
    on_time = [r for r in day7 if r["USUBJID"] != USUBJID + "M01"]
    assert {r["QSDY"] for r in on_time} == {"7"}
    vas = [r for r in rows if r["QSTESTCD"] in ("PTGAVAS", "PTGAMM") and r["QSORRES"]]
    assert vas
    assert {(r["QSORRESU"], r["QSSTRESU"]) for r in vas} == {("mm", "mm")}
    assert {r["QSORRESU"] for r in rows if r["QSTESTCD"] == "PTGACM" and r["QSORRES"]} == {"cm"}
    dress = [r for r in rows if r["QSTESTCD"] == "HAQ01"]
    assert {r["QSORRESU"] for r in dress} == {""}


def test_sdtmig_3_4_names_the_flag_qslobxfl(edc, ctx_factory, clock):
    session = ctx_factory().session
    export = Export(session, session.get(Study, edc.study_id), clock.now(), sdtmig="3.4")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.sdtm_csv("qs")).decode())))
    assert "QSLOBXFL" in rows[0]
    assert "QSBLFL" not in rows[0]
    assert {r["VISIT"] for r in rows if r["QSLOBXFL"] == "Y"} == {"BASELINE"}


def test_ex_has_each_infusion_given_or_not_given_and_never_the_product(lapsed, client):
    rows = _csv(client, lapsed, "/sdtm/ex.csv")
    assert list(rows[0]) == list(participation.EX.names)
    by_subject = {(r["USUBJID"], r["EXSPID"]): r for r in rows}
    first = by_subject[(USUBJID + "G01", "INFUSION 1")]
    assert first["EXOCCUR"] == "Y"
    assert first["EXSTDY"] == "1"
    assert first["EXTRT"] == "STUDY INFUSION"
    assert first["EXROUTE"] == "INTRAVENOUS"
    assert first["EXSTDTC"]
    assert "T" in first["EXSTDTC"]
    skipped = by_subject[(USUBJID + "G02", "INFUSION 2")]
    assert (skipped["EXOCCUR"], skipped["EXSTAT"], skipped["EXREASND"]) == (
        "N", "NOT DONE", "Fever on the day")
    assert skipped["EXPLDTC"]  # Day 0 + the protocol's planned day
    assert {r["EXTRT"] for r in rows} == {"STUDY INFUSION"}


def test_ds_has_enrolment_and_withdrawal_with_reason(lapsed, client):
    rows = [r for r in _csv(client, lapsed, "/sdtm/ds.csv") if r["USUBJID"].startswith(USUBJID)]
    enrolled = [r for r in rows if r["DSDECOD"] == "ENROLLED"]
    assert len(enrolled) == 3
    assert {r["DSCAT"] for r in enrolled} == {"PROTOCOL MILESTONE"}
    withdrawn = [r for r in rows if r["DSDECOD"] == "WITHDRAWN"]
    assert [(r["USUBJID"], r["DSTERM"], r["DSCAT"]) for r in withdrawn] == [
        (USUBJID + "M01", "Moved out of state", "DISPOSITION EVENT")]
    assert withdrawn[0]["DSSTDTC"]
    assert int(withdrawn[0]["DSSTDY"]) > 1


@pytest.mark.parametrize("domain", ["qs", "ex", "ds"])
def test_every_xpt_reads_back_equal_to_its_csv_with_widths_that_fit(lapsed, client, tmp_path,
                                                                     domain):
    frame, meta = _xpt(client, lapsed, f"/sdtm/{domain}.xpt", tmp_path)
    rows = _csv(client, lapsed, f"/sdtm/{domain}.csv")
    assert meta.table_name == domain.upper()
    assert list(frame.columns) == list(rows[0])
    assert len(frame) == len(rows)
    numeric = {"qs": sdtm.NUMERIC, "ex": participation.EX.numeric,
               "ds": participation.DS.numeric}[domain]
    for name in frame.columns:
        got = [("" if v != v else f"{v:g}") if name in numeric else str(v)
               for v in frame[name]]
        assert got == [r[name] for r in rows], name
        if name not in numeric:
            longest = max([len(r[name]) for r in rows] + [1])
            assert meta.variable_storage_width[name] == longest, name


def test_the_json_pull_carries_infusions_and_participation(lapsed, client):
    response = client.get(BASE + "/participation", headers=lapsed.headers())
    assert response.status_code == 200
    people = {p["subject_key"]: p for p in response.get_json()["participants"]}
    assert {"EDC-G01", "EDC-G02", "EDC-M01"} <= set(people)
    g02 = people["EDC-G02"]
    assert g02["status"] == "enrolled"
    assert g02["enrolled_on"]
    first, second = g02["infusions"][:2]
    assert first["status"] == "given"
    assert first["given_at"]["utc"].endswith("Z")
    assert first["given_at"]["local"].endswith("-04:00") or first["given_at"]["local"].endswith(
        "-05:00")
    assert second == {**second, "status": "not_given", "not_given_reason": "Fever on the day",
                      "given_at": None}
    assert second["planned_date"]
    m01 = people["EDC-M01"]
    assert m01["status"] == "withdrawn"
    assert m01["withdrawal_reason"] == "Moved out of state"
    assert m01["withdrawn_at"]["utc"]
    assert "arm" not in str(people).lower().split()
