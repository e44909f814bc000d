"""Issue 15, items 8 and 10 in ODM: a Snapshot carries each assessment's status (missed,
cancelled, completed) and the infusions; it still validates against the ODM 1.3.2 XSD and
our semantic checks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pro_server.edc.odm_check import semantic_errors
from pro_server.participants.models import Participant
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
