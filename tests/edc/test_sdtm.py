"""SDTM QS: variables, test codes, derived scores, corrections, and an XPT that reads back
(pyreadstat) equal to the CSV."""

from __future__ import annotations

import csv
import io

import pyreadstat

from pro_server.edc import sdtm, xpt

QS_NAMES = sdtm.qs_dataset().names

QS = "/api/v1/edc/studies/RES001-DMPM-02/sdtm/qs"


def _csv(client, edc) -> list[dict[str, str]]:
    response = client.get(QS + ".csv", headers=edc.headers())
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_qs_has_the_sdtm_variables_and_legal_test_codes(edc, client):
    rows = _csv(client, edc)
    assert list(rows[0]) == list(QS_NAMES)
    assert {r["DOMAIN"] for r in rows} == {"QS"}
    assert all(len(r["QSTESTCD"]) <= 8 and len(r["QSTEST"]) <= 40 for r in rows)
    assert all(r["QSTESTCD"][0].isalpha() for r in rows)
    for subject in {r["USUBJID"] for r in rows}:
        seqs = [int(r["QSSEQ"]) for r in rows if r["USUBJID"] == subject]
        assert seqs == list(range(1, len(seqs) + 1))
    assert {r["QSDRVFL"] for r in rows if r["QSTESTCD"] == "HAQDI"} == {"Y"}
    assert {r["QSDRVFL"] for r in rows if r["QSTESTCD"] == "HAQ01"} == {""}
    dress = next(r for r in rows if r["QSTESTCD"] == "HAQ01")
    assert dress["QSCAT"] == "HAQ-DI"
    assert dress["QSEVLINT"] == "-P1W"
    assert dress["VISIT"] == "BASELINE"
    assert dress["VISITNUM"] == "1"
    checkbox = {r["QSORRES"] for r in rows if r["QSTESTCD"] == "HAQAID11"}
    assert checkbox <= {"Y", "N", ""}
    not_done = [r for r in rows if r["QSSTAT"] == "NOT DONE"]
    assert all(r["QSREASND"] and not r["QSORRES"] for r in not_done)


def test_a_correction_shows_in_qs_as_the_current_value(edc, client):
    rows = _csv(client, edc)
    dress = [r for r in rows if r["USUBJID"] == "RES001-DMPM-02-EDC-G01"
             and r["VISIT"] == "INFUSION 1 DAY 7" and r["QSTESTCD"] == "HAQ01"]
    assert len(dress) == 1
    assert dress[0]["QSSTRESC"] == str(edc.corrected.answers["dress"]["value"])
    haq = [r for r in rows if r["USUBJID"] == "RES001-DMPM-02-EDC-G01"
           and r["VISIT"] == "INFUSION 1 DAY 7" and r["QSTESTCD"] == "HAQDI"]
    assert haq[0]["QSORRES"] == (edc.corrected.scores["scores"]["haq_di"]["value_text"] or "")


def test_the_xpt_file_reads_back_equal_to_the_csv(edc, client, tmp_path):
    response = client.get(QS + ".xpt", headers=edc.headers())
    assert response.status_code == 200
    path = tmp_path / "qs.xpt"
    path.write_bytes(response.data)
    frame, meta = pyreadstat.read_xport(str(path))
    rows = _csv(client, edc)
    assert meta.table_name == "QS"
    assert list(frame.columns) == list(QS_NAMES)
    assert len(frame) == len(rows)
    assert meta.column_names_to_labels["QSTESTCD"] == "Question Short Name"
    for n, row in enumerate(rows):
        for name in QS_NAMES:
            value = frame.iloc[n][name]
            if name in sdtm.NUMERIC:
                got = "" if value != value else f"{value:g}"  # NaN is missing
            else:
                got = "" if value is None else str(value)
            assert got == row[name], (n, name)


def test_xpt_chunks_are_spliced_into_one_valid_file(edc, client, tmp_path, monkeypatch):
    monkeypatch.setattr(xpt, "XPT_CHUNK", 7)
    whole = client.get(QS + ".xpt", headers=edc.headers()).data
    monkeypatch.undo()
    path = tmp_path / "chunked.xpt"
    path.write_bytes(whole)
    frame, _ = pyreadstat.read_xport(str(path))
    assert len(frame) == len(_csv(client, edc))
    assert len(whole) % 80 == 0


def test_every_score_has_its_whole_name_in_qstest_and_no_two_scores_share_one():
    # QSTEST is at most 40 characters; a score label cut there would make the GPH T-score and
    # its standard error read alike ("GPHSE-Global Physical Health T-score"), so a label too
    # long carries its own `sdtm_test` in the definition file, which must fit whole.
    from pro_server.edc.catalogue import qs_tests
    from pro_server.instruments import default_registry

    for definition in default_registry().all():
        scored = [t for t in qs_tests(definition) if t.score is not None]
        assert len({t.test.split("-", 1)[1] for t in scored}) == len(scored), definition.code
        for t in scored:
            assert len(t.test) <= 40
            assert t.test == f"{t.testcd}-{t.score.sdtm_test or t.score.label['en']}"
    scores = {t.testcd: t.test for d in default_registry().all() for t in qs_tests(d) if t.score}
    assert scores["GPHSE"] == "GPHSE-Global Physical Health T-score SE"
    assert scores["HAQDIWOA"] == "HAQDIWOA-HAQ-DI without aids and help"


def test_a_definitions_own_qstest_text_that_does_not_fit_is_refused():
    import pytest

    from pro_server.edc.catalogue import CatalogueError, qstest

    assert qstest("GPHT", "Global Physical Health T-score", exact=True) == (
        "GPHT-Global Physical Health T-score")
    with pytest.raises(CatalogueError, match="longer than 40"):
        qstest("HAQDIWOA", "HAQ Alternative Disability Index (without aids)", exact=True)


def test_responses_share_records_only_when_their_answers_read_the_same():
    # QS builds the middle of each distinct test result once; an answer of 3 and one of 3.0
    # (or True) are equal in Python but not in QSORRES
    import json
    from datetime import UTC, datetime

    from pro_server.edc.catalogue import study_catalogue
    from pro_server.instruments import default_registry
    from pro_server.protocol.definitions import default_registry as protocols

    registry = default_registry()
    catalogue = study_catalogue("S", "RES001-DMPM-02", None, ["GNV"], registry, protocols())
    scores = json.dumps({"pain_nrs": {"value": 3, "value_text": "3", "reason": None}})

    def row(value, subject):
        return {"subject_key": subject, "subject_rank": int(subject), "assessment_code":
                "BASELINE", "assessment_sequence": 1, "instrument_code": "pain_nrs",
                "instrument_version": "1.0", "submitted_at": datetime(2026, 1, 5, 15, tzinfo=UTC),
                "timezone": "America/New_York", "first_dose_local": None, "scores_json": scores,
                "items_json": {"pain_nrs": value}}

    rows = [row(3, "1"), row(3, "2"), row(3.0, "3"), row(True, "4")]
    records = [r for r in sdtm.qs_records(catalogue, rows, registry.get) if not r["QSDRVFL"]]
    assert [r["QSORRES"] for r in records] == ["3", "3", "3.0", "True"]


def test_qs_reads_the_stored_texts_as_their_decoded_values():
    # `_Plan` reads a stored text by its members once it met them; whatever the text (a
    # list, a value left null, 1 and 1.0 and true, a string, a member it never met, other
    # spacing, an unanswered item), the records are those of its decoded values
    import json
    from datetime import UTC, datetime

    from pro_server.edc.catalogue import study_catalogue
    from pro_server.instruments import default_registry
    from pro_server.protocol.definitions import default_registry as protocols
    from pro_server.responses.export_text import as_stored, export_texts, unanswered

    registry = default_registry()
    catalogue = study_catalogue("S", "RES001-DMPM-02", None, ["GNV"], registry, protocols())
    haq = registry.get("haq_di", "1.0")
    base = {item.id: 1 for item in haq.items if item.type == "single_choice"}
    lists = [item.id for item in haq.items if item.type == "multi_choice"]
    done = {s.key: {"value": 1.5, "value_text": "1.500", "reason": None} for s in haq.scores}
    score_sets = [done, {**done, "dressing": {"value": None, "value_text": None,
                                              "reason": "too_few_answers"}},
                  {**done, "grip": {"value": 2, "value_text": "2", "reason": None}},
                  {**done, "grip": {"value": 2, "value_text": "2", "reason": None},
                   "dressing": {"value": None, "value_text": None,
                                "reason": "too_few_answers"}}]  # each member met before
    answer_sets = [  # the later ones new texts of members met before
        {**base, lists[0]: first, lists[1]: second, "dress": dress}
        for first in (["cane", "other"], ["cane"]) for second in ([], ["other", "cane"])
        for dress in (1, 2)]
    answer_sets += [
        {**base, lists[0]: ["other"], "dress": None},  # left null
        {**base, "dress": 1.0}, {**base, "dress": True},
        {**base, "dress": 2, "unknown": 3},
        {**base, lists[0]: ["a\", \"b", "other"]},
    ]
    texts = [(stored["items_json"], stored["unanswered_json"], stored["scores_json"])
             for stored in (export_texts(haq, as_stored({k: {"value": v} for k, v in a.items()}),
                                         as_stored({"scores": score_sets[n % len(score_sets)]}))
                            for n, a in enumerate(answer_sets))]  # as stored
    texts.append((json.dumps(base, separators=(",", ":")), json.dumps(unanswered(haq, base)),
                  json.dumps(done, indent=1)))

    def rows(decoded):
        for n, (items, reasons, results) in enumerate(texts):
            yield {"subject_key": "1", "subject_rank": 1, "assessment_code": "BASELINE",
                   "assessment_sequence": n, "instrument_code": "haq_di",
                   "instrument_version": "1.0",
                   "submitted_at": datetime(2026, 1, 5, 15, tzinfo=UTC),
                   "timezone": "America/New_York", "first_dose_local": None,
                   **({"items_json": json.loads(items), "scores_json": json.loads(results)}
                      if decoded else {"items_json": items, "unanswered_json": reasons,
                                       "scores_json": results})}

    read = list(sdtm.qs_records(catalogue, rows(False), registry.get))
    assert read == list(sdtm.qs_records(catalogue, rows(True), registry.get))
    assert {r["QSSTRESC"] for r in read if r["QSTESTCD"] == "HAQ01"} == {
        "", "1", "1.0", "True", "2"}
    assert {r["QSREASND"] for r in read} >= {"NOT APPLICABLE", "NOT ANSWERED"}
