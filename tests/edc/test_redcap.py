"""REDCap: legal field names, a dictionary matching the record file, events and mapping."""

from __future__ import annotations

import csv
import io
import re

BASE = "/api/v1/edc/studies/RES001-DMPM-02/redcap"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,25}$")


def _csv(client, edc, name):
    response = client.get(f"{BASE}/{name}", headers=edc.headers())
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_records_dictionary_events_and_mapping_fit_together(edc, client):
    records = _csv(client, edc, "records.csv")
    dictionary = _csv(client, edc, "data-dictionary.csv")
    events = _csv(client, edc, "events.csv")
    mapping = _csv(client, edc, "instrument-event-mapping.csv")
    fields = {row[0]: row for row in dictionary[1:]}
    assert dictionary[1][0] == "record_id"
    assert all(NAME.match(name) for name in fields), [n for n in fields if not NAME.match(n)]
    header = records[0]
    assert header[:3] == ["record_id", "redcap_event_name", "redcap_data_access_group"]
    forms = {row[1] for row in dictionary[1:]}
    for column in header[3:]:
        base = column.split("___")[0]
        if column.endswith("_complete") and column[: -len("_complete")] in forms:
            continue
        assert base in fields, column
        if "___" in column:
            assert fields[base][3] == "checkbox"
            choices = [c.split(",")[0].strip() for c in fields[base][5].split("|")]
            assert column.split("___")[1] in choices
    event_names = {row[2] for row in events[1:]}
    assert {row[1] for row in records[1:]} <= event_names
    assert {row[1] for row in mapping[1:]} == event_names
    assert {row[2] for row in mapping[1:]} == forms
    ours = [r for r in records[1:] if r[0].startswith("EDC-") and not r[1].startswith("infusion_")]
    assert len(ours) == 6  # 3 subjects x (baseline, infusion 1 day 7)


def test_record_values_follow_the_current_versions(edc, client):
    records = _csv(client, edc, "records.csv")
    header = records[0]
    row = next(r for r in records[1:] if r[:2] == ["EDC-G01", "inf1_d7_arm_1"])
    values = dict(zip(header, row, strict=True))
    assert values["haq_di_haq01"] == str(edc.corrected.answers["dress"]["value"])
    assert values["haq_di_rv"] == "2"
    assert values["haq_di_algver"] == "1.0.0"
    assert values["haq_di_complete"] == "2"
    assert values["rand36_complete"] == ""
    branching = {r[0]: r[11] for r in _csv(client, edc, "data-dictionary.csv")[1:]}
    assert branching["haq_di_haqoth1"] == "[haq_di_haqaid1(8)] = '1'"
