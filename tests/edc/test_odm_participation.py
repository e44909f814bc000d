"""Issue 15, items 8 and 10 in ODM: a Snapshot carries each assessment's status (missed,
cancelled, completed) and the infusions; it still validates against the ODM 1.3.2 XSD and
our semantic checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from pro_server.edc import odm, odm_participation
from pro_server.edc.odm_check import semantic_errors
from pro_server.participants.models import Participant
from pro_server.protocol.planner import ScheduledInfusion
from pro_server.schedule.infusions import record_infusion
from tests.edc import support
from tests.edc.conftest import parse

BASE = "/api/v1/edc/studies/RES001-DMPM-02/odm"
NS = {"o": "http://www.cdisc.org/ns/odm/v1.3"}


def _values(doc, subject: str, event: str, form: str) -> dict[str, str]:
    node = doc.find(f".//o:SubjectData[@SubjectKey='{subject}']/o:StudyEventData"
                    f"[@StudyEventOID='{event}']/o:FormData[@FormOID='{form}']", NS)
    assert node is not None, (subject, event, form)
    return {i.get("ItemOID"): i.get("Value") for i in node.iterfind(".//o:ItemData", NS)}


def test_a_snapshot_carries_assessment_status_and_infusions(edc, client, ctx_factory, clock,
                                                            odm_schema):
    ctx = ctx_factory()
    g02 = ctx.session.scalar(select(Participant).where(Participant.subject_key == "EDC-G02"))
    clock.set(support.assessment(ctx, g02, "INF1_D30").window_end + timedelta(days=1))
    record_infusion(ctx, g02, 2, status="not_given", reason="Fever on the day")
    ctx.session.commit()
    clock.advance(timedelta(minutes=1))
    doc = parse(client.get(f"{BASE}/clinical?snapshot=1", headers=edc.headers()).data)
    assert odm_schema.validate(doc), [e.message for e in odm_schema.error_log][:5]
    metadata = parse(client.get(f"{BASE}/metadata", headers=edc.headers()).data)
    assert odm_schema.validate(metadata), [e.message for e in odm_schema.error_log][:5]
    assert semantic_errors(doc, metadata) == []
    assert _values(doc, "EDC-G02", "SE.INF1_D30", "F.ASSESSMENT_STATUS") == {
        "I.ASSESSMENT_STATUS.STATUS": "MISSED",
        "I.ASSESSMENT_STATUS.REASON": "Not completed within the assessment window"}
    assert _values(doc, "EDC-G02", "SE.BASELINE", "F.ASSESSMENT_STATUS") == {
        "I.ASSESSMENT_STATUS.STATUS": "COMPLETED"}
    first = _values(doc, "EDC-G02", "SE.INFUSION_1", "F.INFUSION")
    assert first["I.INFUSION.STATUS"] == "GIVEN"
    assert first["I.INFUSION.GIVEN_AT"][-6:] in ("-04:00", "-05:00")
    second = _values(doc, "EDC-G02", "SE.INFUSION_2", "F.INFUSION")
    assert (second["I.INFUSION.STATUS"], second["I.INFUSION.REASON"]) == (
        "NOT_GIVEN", "Fever on the day")
    assert second["I.INFUSION.PLANNED_DATE"]
    subjects = [s.get("SubjectKey") for s in doc.iterfind(".//o:SubjectData", NS)]
    assert len(subjects) == len(set(subjects))  # one SubjectData per subject


@pytest.mark.parametrize("infusion", [
    ScheduledInfusion(number=1, label="Infusion 1", status="given",
                      protocol_date=date(2027, 3, 28), planned_date=date(2027, 3, 29),
                      earliest=None, latest=None,
                      given_at_local=datetime(2027, 3, 28, 2, 30, 15, 250), reason=None),
    ScheduledInfusion(number=2, label="Infusion 2", status="not_given",
                      protocol_date=date(2027, 4, 25), planned_date=None, earliest=None,
                      latest=None, given_at_local=None,
                      reason='Fever <39.5 "high"> & chills\nand\tmore\r'),
    ScheduledInfusion(number=12, label="Infusion 12", status="planned", protocol_date=None,
                      planned_date=None, earliest=None, latest=None, given_at_local=None,
                      reason="not written"),
], ids=["given", "not-given", "planned"])
def test_an_infusions_bytes_are_its_event_serialised(infusion):
    """A Snapshot writes each infusion from kept bytes (`odm.infusion_data`): the same bytes
    as its element (`odm_participation.infusion_event`) serialised."""
    for tz in ("Europe/Madrid", "America/New_York", "UTC"):
        assert odm.infusion_data(infusion, tz) == odm.fragment(
            odm_participation.infusion_event(odm.fragment_el, infusion, tz))
