"""Issue 15, items 5, 6, 8 and 10 in REDCap: two successive exports applied with the import
behaviour the docs give end in the state REDCap should hold (an answer a correction removed is
cleared); sites are data access groups; missed assessments and infusions are data."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from pro_server.edc import redcap
from pro_server.instruments import default_registry
from pro_server.participants.models import Participant
from pro_server.schedule.infusions import record_infusion
from tests.edc import support

BASE = "/api/v1/edc/studies/RES001-DMPM-02/redcap"
DOC = Path(__file__).resolve().parents[2] / "docs" / "edc-mapping.md"
Key = tuple[str, str]


def import_records(project: dict[Key, dict[str, str]], text: str, behavior: str) -> None:
    """REDCap's record import, as its API documents `overwriteBehavior`: `normal` ignores
    blank values (the saved value stays); `overwrite` lets a blank erase the saved value."""
    assert behavior in ("normal", "overwrite")
    for row in csv.DictReader(io.StringIO(text)):
        key = (row.pop("record_id"), row.pop("redcap_event_name"))
        saved = project.setdefault(key, {})
        for field, value in row.items():
            if value != "":
                saved[field] = value
            elif behavior == "overwrite":
                saved.pop(field, None)


def documented_behavior() -> str:
    section = DOC.read_text(encoding="utf-8").split("## REDCap", 1)[1].split("\n## ", 1)[0]
    found = set(re.findall(r"overwriteBehavior=(\w+)", section))
    assert len(found) == 1, found
    return found.pop()


def _get(client, edc, name: str) -> str:
    response = client.get(f"{BASE}/{name}", headers=edc.headers())
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_two_exports_around_a_correction_that_clears_an_answer(edc, client, ctx_factory,
                                                                 clock):
    behavior = documented_behavior()
    assert behavior == redcap.IMPORT_OVERWRITE_BEHAVIOR
    ctx = ctx_factory()
    p = ctx.session.scalar(select(Participant).where(Participant.subject_key == "EDC-G01"))
    # An "other" aid used for dressing: an optional answer, which a correction may clear
    # (a required one never can be removed).
    haq = support.current(ctx, p, "BASELINE", "haq_di")
    haq = support.correct(ctx, haq, "aids_p1", ["other"])
    haq = support.correct(ctx, haq, "aids_other_p1", ["dressing"])
    ctx.session.commit()
    definition = default_registry().get("haq_di", haq.instrument_version)
    item = next(i for i in definition.items if i.id == "aids_other_p1")
    n = 1 + [o.code for o in item.options].index("dressing")
    column = f"{redcap.field_name(definition, item)}___{n}"
    clock.advance(timedelta(minutes=1))
    project: dict[Key, dict[str, str]] = {}
    first = _get(client, edc, "records.csv")
    import_records(project, first, behavior)
    key = ("EDC-G01", "baseline_arm_1")
    assert project[key][column] == "1"

    haq = support.correct(ctx, haq, "aids_other_p1", None, reason="Answer given for another day")
    ctx.session.commit()
    clock.advance(timedelta(minutes=1))
    second = _get(client, edc, "records.csv")
    import_records(project, second, behavior)
    expected: dict[Key, dict[str, str]] = {}
    import_records(expected, second, "overwrite")  # a fresh project holds just the new file
    assert project == expected
    assert column not in project[key]
    assert project[key]["haq_di_rv"] == str(haq.version)
    stale: dict[Key, dict[str, str]] = {}
    import_records(stale, first, "normal")  # the import main documented
    import_records(stale, second, "normal")
    assert stale[key][column] == "1"  # what REDCap kept with `normal`


def test_sites_are_data_access_groups_and_times_carry_their_zone(edc, client):
    rows = list(csv.DictReader(io.StringIO(_get(client, edc, "records.csv"))))
    dags = list(csv.reader(io.StringIO(_get(client, edc, "dags.csv"))))
    assert dags[0] == ["data_access_group_name", "unique_group_name"]
    assert {tuple(r) for r in dags[1:]} >= {("GNV", "gnv"), ("MIA", "mia")}
    by_subject = {r["record_id"]: r["redcap_data_access_group"] for r in rows}
    assert by_subject["EDC-G01"] == "gnv"
    assert by_subject["EDC-M01"] == "mia"
    row = next(r for r in rows if r["record_id"] == "EDC-G01"
               and r["redcap_event_name"] == "baseline_arm_1")
    assert row["haq_di_tz"] == "America/New_York"
    local, utc = row["haq_di_submitted"], row["haq_di_submitted_utc"]
    assert local
    assert utc
    assert local != utc


def test_missed_assessments_and_infusions_are_redcap_data(edc, client, ctx_factory, clock):
    ctx = ctx_factory()
    g02 = ctx.session.scalar(select(Participant).where(Participant.subject_key == "EDC-G02"))
    clock.set(support.assessment(ctx, g02, "INF1_D30").window_end + timedelta(days=1))
    record_infusion(ctx, g02, 2, status="not_given", reason="Fever on the day")
    ctx.session.commit()
    rows = list(csv.DictReader(io.StringIO(_get(client, edc, "records.csv"))))
    events = {r[2] for r in csv.reader(io.StringIO(_get(client, edc, "events.csv")))}
    mapping = {(r[1], r[2]) for r in csv.reader(io.StringIO(
        _get(client, edc, "instrument-event-mapping.csv")))}
    assert {"infusion_1_arm_1", "infusion_6_arm_1"} <= events
    assert ("infusion_1_arm_1", "infusion") in mapping
    assert ("inf1_d30_arm_1", "assessment_status") in mapping
    ours = {(r["record_id"], r["redcap_event_name"]): r for r in rows}
    missed = ours[("EDC-G02", "inf1_d30_arm_1")]
    assert (missed["asmt_status"], missed["asmt_reason"]) == ("2", redcap.MISSED_REASON)
    done = ours[("EDC-G02", "baseline_arm_1")]
    assert done["asmt_status"] == "1"
    first = ours[("EDC-G02", "infusion_1_arm_1")]
    assert first["inf_status"] == "1"
    assert first["inf_given_at"]
    second = ours[("EDC-G02", "infusion_2_arm_1")]
    assert (second["inf_status"], second["inf_reason"]) == ("2", "Fever on the day")
    assert second["inf_planned_date"]
    seen = [(r["record_id"]) for r in rows]
    assert seen == sorted(seen, key=seen.index)  # each subject's rows together
    firsts = [seen.index(k) for k in dict.fromkeys(seen)]
    assert all(seen[i:].count(k) == seen.count(k) for k, i in zip(dict.fromkeys(seen), firsts,
                                                                   strict=True))
