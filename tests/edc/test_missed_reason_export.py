"""Issue 16 item 1: the reason a coordinator recorded for a missed survey is the EDC's
not-done reason: SDTM QSREASND, REDCap asmt_reason and the ODM snapshot's status form."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from pro_server.participants.models import Participant
from pro_server.schedule.missed import record_missed_reason
from tests.edc import support
from tests.edc.conftest import parse

BASE = "/api/v1/edc/studies/RES001-DMPM-02"
NS = {"o": "http://www.cdisc.org/ns/odm/v1.3"}


def _rows(client, edc, path: str) -> list[dict[str, str]]:
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_recorded_reason_is_the_not_done_reason_in_every_format(edc, client, ctx_factory,
                                                                    clock, odm_schema):
    ctx = ctx_factory()
    g02 = ctx.session.scalar(select(Participant).where(Participant.subject_key == "EDC-G02"))
    a = support.assessment(ctx, g02, "INF1_D30")
    clock.set(a.window_end + timedelta(days=1))
    record_missed_reason(ctx, a, "other", "In hospital abroad", timedelta(hours=12))
    ctx.session.commit()
    clock.advance(timedelta(minutes=1))

    qs = [r for r in _rows(client, edc, "/sdtm/qs.csv")
          if r["USUBJID"].endswith("EDC-G02") and r["VISIT"] == "INFUSION 1 DAY 30"]
    assert qs
    assert {(r["QSSTAT"], r["QSREASND"]) for r in qs} == {
        ("NOT DONE", "OTHER: IN HOSPITAL ABROAD")}

    redcap = {(r["record_id"], r["redcap_event_name"]): r
              for r in _rows(client, edc, "/redcap/records.csv")}
    missed = redcap[("EDC-G02", "inf1_d30_arm_1")]
    assert (missed["asmt_status"], missed["asmt_reason"]) == ("2", "Other: In hospital abroad")

    doc = parse(client.get(f"{BASE}/odm/clinical?snapshot=1", headers=edc.headers()).data)
    assert odm_schema.validate(doc), [e.message for e in odm_schema.error_log][:5]
    form = doc.find(".//o:SubjectData[@SubjectKey='EDC-G02']/o:StudyEventData"
                    "[@StudyEventOID='SE.INF1_D30']/o:FormData", NS)
    values = {i.get("ItemOID"): i.get("Value") for i in form.iterfind(".//o:ItemData", NS)}
    assert values == {"I.ASSESSMENT_STATUS.STATUS": "MISSED",
                      "I.ASSESSMENT_STATUS.REASON": "Other: In hospital abroad"}
