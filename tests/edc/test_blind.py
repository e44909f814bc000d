"""Blind by construction: no export carries anything that could reveal treatment allocation.

Every export is scanned (headers, values, OIDs, labels, raw bytes) for the words below, in
English and Spanish, matched on whole words after splitting at anything that is not a letter
(so `treatment_arm`, `ARM.A` and `Cohort1` are all caught).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

BASE = "/api/v1/edc/studies/RES001-DMPM-02"
EXPORTS = (
    "/records?limit=1000", "/odm/metadata", "/odm/clinical", "/odm/clinical?snapshot=1",
    "/redcap/records.csv", "/redcap/data-dictionary.csv", "/redcap/events.csv",
    "/redcap/instrument-event-mapping.csv", "/sdtm/qs.csv", "/sdtm/qs.xpt",
    "/fhir/Questionnaire", "/fhir/QuestionnaireResponse", "/fhir/_history", "/fhir/metadata",
    "/adherence.csv",
    "/sdtm/ex.csv", "/sdtm/ex.xpt", "/sdtm/ds.csv", "/sdtm/ds.xpt", "/participation",
    "/redcap/dags.csv", "/sdtm/define.xml", "/sdtm/define.html",
)
# Whole words (after lower-casing and folding accents) that could carry allocation.
BLIND_WORDS = re.compile(r"^(?:"
                         r"arms?|cohorts?|sequences?|sequenc\w*|ulsc|placebos?|"
                         r"allocat\w*|randomi[sz]\w*|treatments?|treated|"
                         r"crossover|cross|unblind\w*|blinded|verum|"
                         r"brazos?|cohortes?|secuencias?|aleatori\w*|asignaci\w*|"
                         r"tratamientos?|tratad[oa]s?"
                         r")$")
# Exact phrases allowed, each with why it carries no allocation.
ALLOWED = (
    # REDCap's own structure: every project has arm 1; we define no other arm.
    (re.compile(r"\barm_num\b"), "REDCap column naming its (single) structural arm"),
    (re.compile(r"_arm_1\b"), "REDCap unique event name suffix of the single arm"),
    # The SDTM-standard label of QSSEQ (a record counter) in the XPORT header.
    (re.compile(r"Sequence Number"), "SDTM label of --SEQ"),
    # SDTM-standard labels of EXTRT, EXSTDTC, EXSTDY in the EX XPORT header; EXTRT's value is
    # always "STUDY INFUSION".
    (re.compile(r"Name of Treatment"), "SDTM label of EXTRT"),
    (re.compile(r"Start Date/Time of Treatment"), "SDTM label of EXSTDTC"),
    (re.compile(r"Study Day of Start of Treatment"), "SDTM label of EXSTDY"),
)


def _fold(text: str) -> str:
    for accented, plain in zip("áéíóúüñ", "aeiouun", strict=True):
        text = text.replace(accented, plain)
    return text


def blind_violations(text: str) -> list[str]:
    for pattern, _why in ALLOWED:
        text = pattern.sub(" ", text)
    words = re.split(r"[^a-z]+", _fold(text.lower()))
    return sorted({w for w in words if w and BLIND_WORDS.match(w)})


def test_the_scanner_catches_allocation_in_any_spelling():
    assert blind_violations("SUBJ,TREATMENT_ARM,Cohort2") == ["arm", "cohort", "treatment"]
    assert blind_violations("I.X.RANDOMIZATION ULSC placebo") == ["placebo", "randomization",
                                                                 "ulsc"]
    assert blind_violations("Aleatorización, brazo de tratamiento") == [
        "aleatorizacion", "brazo", "tratamiento"]
    assert blind_violations("baseline_arm_1,arm_num") == []
    assert blind_violations("pharmacy alarm warm") == []


@pytest.mark.parametrize("path", EXPORTS)
def test_no_export_mentions_allocation(edc, client, path):
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200
    text = response.data.decode("latin-1" if path.endswith(".xpt") else "utf-8")
    assert blind_violations(text) == []
    if path.startswith("/redcap/events") or path.startswith("/redcap/instrument"):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["arm_num"] for r in rows} == {"1"}
