"""ODM 1.3.2: metadata and clinical data validate against the official XSD (offline) and our
semantic checks; a round trip compares every value with the database; corrections are Updates."""

from __future__ import annotations

import copy
import csv
import io

import pytest
from sqlalchemy import select

from pro_server.edc.exports import Export
from pro_server.edc.odm_check import semantic_errors
from pro_server.edc.records import CursorCodec, high_water
from pro_server.instruments import default_registry
from pro_server.local_time import utc_to_local
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Study
from tests.edc import support
from tests.edc.conftest import parse

BASE = "/api/v1/edc/studies/RES001-DMPM-02"
NS = {"o": "http://www.cdisc.org/ns/odm/v1.3"}


def _get(client, edc, path):
    response = client.get(BASE + path, headers=edc.headers())
    assert response.status_code == 200, response.data[:500]
    return parse(response.data)


def _valid(schema, doc):
    assert schema.validate(doc), [f"line {e.line}: {e.message}" for e in schema.error_log][:5]


def test_metadata_describes_events_forms_items_code_lists_and_methods(edc, client, odm_schema):
    doc = _get(client, edc, "/odm/metadata")
    _valid(odm_schema, doc)
    assert semantic_errors(doc, doc) == []
    mdv = doc.find("o:Study/o:MetaDataVersion", NS)
    events = [e.get("OID") for e in mdv.iterfind("o:StudyEventDef", NS)]
    assert events[:3] == ["SE.BASELINE", "SE.INF1_D7", "SE.INF1_D30"]
    assert "SE.INF3_D30" in events
    assert {f.get("OID") for f in mdv.iterfind("o:FormDef", NS)} == {
        "F.PAIN_NRS", "F.PTGA_VAS", "F.HAQ_DI", "F.PROMIS_GH", "F.RAND36",
        "F.ASSESSMENT_STATUS", "F.INFUSION"}
    dress = mdv.find("o:ItemDef[@OID='I.HAQ_DI.DRESS']", NS)
    questions = {t.get("{http://www.w3.org/XML/1998/namespace}lang"): t.text
                 for t in dress.iterfind("o:Question/o:TranslatedText", NS)}
    assert questions["en"].startswith("Dress yourself")
    assert questions["es"].startswith("¿Vestirse")
    codes = [i.get("CodedValue") for i in mdv.find(
        "o:CodeList[@OID='CL.HAQ_DI.DRESS']", NS).iterfind("o:CodeListItem", NS)]
    assert codes == ["0", "1", "2", "3"]
    assert mdv.find("o:ItemDef[@OID='I.HAQ_DI.AIDS_P1.CANE']/o:CodeListRef", NS).get(
        "CodeListOID") == "CL.NY"
    methods = {m.get("OID"): m.get("Name") for m in mdv.iterfind("o:MethodDef", NS)}
    assert methods["MT.HAQ_DI"] == "haq_di_standard 1.0.0"
    score_ref = mdv.find("o:ItemGroupDef[@OID='IG.HAQ_DI.SCORES']/o:ItemRef", NS)
    assert score_ref.get("MethodOID") == "MT.HAQ_DI"


@pytest.mark.parametrize("query", ["", "?snapshot=1"])
def test_clinical_data_validates_against_the_xsd_and_semantic_checks(edc, client, odm_schema,
                                                                      query):
    metadata = _get(client, edc, "/odm/metadata")
    doc = _get(client, edc, "/odm/clinical" + query)
    _valid(odm_schema, doc)
    assert semantic_errors(doc, metadata) == []
    assert doc.get("FileType") == ("Snapshot" if query else "Transactional")


def test_semantic_checks_catch_what_the_xsd_lets_through(edc, client, odm_schema):
    metadata = _get(client, edc, "/odm/metadata")
    doc = _get(client, edc, "/odm/clinical")
    broken = copy.deepcopy(doc)
    items = broken.findall(".//o:ItemData", NS)
    items[0].set("ItemOID", "I.NOPE.NOPE")
    dress = next(i for i in items if i.get("ItemOID") == "I.HAQ_DI.DRESS")
    dress.set("Value", "7")
    audit = broken.find(".//o:FormData/o:AuditRecord", NS)
    audit.getparent().remove(audit)
    _valid(odm_schema, broken)
    errors = "\n".join(semantic_errors(broken, metadata))
    assert "I.NOPE.NOPE has no ItemDef" in errors
    assert "'7' is not in CL.HAQ_DI.DRESS" in errors
    assert "Insert without an AuditRecord" in errors


def _expected_values(response: Response, tz: str, window_end) -> dict[str, str]:
    """Every value the database holds for one response version, keyed by ItemOID."""
    d = default_registry().get(response.instrument_code, response.instrument_version)
    form = d.code.upper()
    values: dict[str, str] = {}
    for item in d.items:
        answer = response.answers.get(item.id)
        if answer is None:
            continue
        if item.type == "multi_choice":
            for option in item.options:
                values[f"I.{form}.{item.id.upper()}.{option.code.upper()}"] = (
                    "Y" if option.code in answer["value"] else "N")
        else:
            values[f"I.{form}.{item.id.upper()}"] = str(answer["value"])
    for key, score in response.scores["scores"].items():
        if score["value_text"] is not None:
            values[f"I.{form}.SCORE.{key.upper()}"] = score["value_text"]
    admin = {
        "INSTRUMENT_VERSION": response.instrument_version, "ALGORITHM": response.algorithm,
        "ALGORITHM_VERSION": response.algorithm_version, "LANGUAGE": response.language,
        "STARTED": utc_to_local(response.started_at, tz).isoformat(),
        "SUBMITTED": utc_to_local(response.submitted_at, tz).isoformat(),
        "RESPONSE_VERSION": str(response.version),
        "TIMING": "late" if response.submitted_at > window_end else "on_time",
    }
    values.update({f"I.{form}.ADMIN.{k}": v for k, v in admin.items()})
    return values


def _forms(doc) -> list[tuple[str, str, str, dict[str, str], object]]:
    found = []
    for subject in doc.iterfind(".//o:SubjectData", NS):
        for event in subject.iterfind("o:StudyEventData", NS):
            for form in event.iterfind("o:FormData", NS):
                if form.get("FormOID") in ("F.ASSESSMENT_STATUS", "F.INFUSION"):
                    continue  # not responses: tests/edc/test_odm_participation.py
                values = {i.get("ItemOID"): i.get("Value")
                          for i in form.iterfind(".//o:ItemData", NS)}
                found.append((subject.get("SubjectKey"), event.get("StudyEventOID"),
                              form.get("FormOID"), values, form))
    return found


def _db_rows(ctx_factory, study_id, *, current_only):
    session = ctx_factory().session
    query = (select(Response, Participant.subject_key, Assessment)
             .join(Participant, Participant.id == Response.participant_id)
             .join(Assessment, Assessment.id == Response.assessment_id)
             .where(Response.study_id == study_id).order_by(Response.audit_seq))
    if current_only:
        query = query.where(Response.is_current.is_(True))
    return session.execute(query).all()


def test_snapshot_round_trip_matches_every_value_in_the_database(edc, client, ctx_factory):
    doc = _get(client, edc, "/odm/clinical?snapshot=1")
    forms = {(s, e, f): v for s, e, f, v, _ in _forms(doc)}
    rows = _db_rows(ctx_factory, edc.study_id, current_only=True)
    assert len(forms) == len(rows) >= 27
    for response, subject, a in rows:
        key = (subject, f"SE.{a.code}", f"F.{response.instrument_code.upper()}")
        assert forms[key] == _expected_values(response, a.timezone, a.window_end), key


def test_transactional_round_trip_has_every_version_in_commit_order(edc, client, ctx_factory):
    doc = _get(client, edc, "/odm/clinical")
    forms = _forms(doc)
    rows = _db_rows(ctx_factory, edc.study_id, current_only=False)
    assert len(forms) == len(rows) >= 28
    for (subject, event, form, values, node), (response, key, a) in zip(forms, rows,
                                                                        strict=True):
        assert (subject, event, form) == (key, f"SE.{a.code}",
                                          f"F.{response.instrument_code.upper()}")
        expected = _expected_values(response, a.timezone, a.window_end)
        assert {k: v for k, v in values.items() if v is not None} == expected
        audit = node.find("o:AuditRecord", NS)
        assert audit.findtext("o:SourceID", namespaces=NS) == f"audit-seq:{response.audit_seq}"
        assert node.get("TransactionType") == ("Insert" if response.version == 1 else "Update")


def test_a_correction_is_an_update_with_its_reason(edc, client):
    doc = _get(client, edc, "/odm/clinical")
    updates = [f for f in doc.iterfind(".//o:FormData", NS)
               if f.get("TransactionType") == "Update"
               and f.getparent().getparent().get("SubjectKey").startswith("EDC-")]
    assert len(updates) == 1
    update = updates[0]
    assert update.get("FormOID") == "F.HAQ_DI"
    audit = update.find("o:AuditRecord", NS)
    assert audit.findtext("o:ReasonForChange", namespaces=NS) == (
        "Participant reported tapping the wrong answer")
    assert audit.find("o:UserRef", NS).get("UserOID") == "USR.INVESTIGATOR_EXAMPLE_ORG"
    dress = update.find(".//o:ItemData[@ItemOID='I.HAQ_DI.DRESS']", NS)
    assert dress.get("Value") == str(edc.corrected.answers["dress"]["value"])
    subject = update.getparent().getparent()
    assert subject.get("SubjectKey") == "EDC-G01"
    assert subject.get("TransactionType") == "Context"


def test_the_next_cursor_continues_where_the_file_ended(edc, client):
    first = client.get(BASE + "/odm/clinical", headers=edc.headers())
    cursor = first.headers["X-Next-Cursor"]
    again = client.get(BASE + f"/odm/clinical?since={cursor}", headers=edc.headers())
    assert again.status_code == 200
    assert parse(again.data).findall(".//o:FormData", NS) == []


def test_a_snapshot_holds_the_data_as_of_its_next_cursor(edc, client, app, clock, ctx_factory):
    """A correction committed while a snapshot is being read (after the export fixed its
    bound and its X-Next-Cursor) is not in the snapshot nor in the QS file of that bound:
    it arrives once, as an Update, in the next incremental pull."""
    ctx = ctx_factory()
    study = ctx.session.get(Study, edc.study_id)
    upto = high_water(ctx.session, study.id)
    p = ctx.session.scalar(select(Participant).where(Participant.subject_key == "EDC-G02"))
    before = support.current(ctx, p, "INF1_D7", "pain_nrs")
    old = before.answers["pain_nrs"]["value"]
    support.correct(ctx, before, "pain_nrs", (old + 1) % 11, reason="while reading")
    ctx.session.commit()

    reader = ctx_factory().session
    export = Export(reader, reader.get(Study, study.id), clock.now(), as_of=upto)
    doc = parse(b"".join(export.odm_clinical(0, upto, snapshot=True)))
    forms = {(s, e, f): (v, node) for s, e, f, v, node in _forms(doc)}
    values, _ = forms[("EDC-G02", "SE.INF1_D7", "F.PAIN_NRS")]
    assert values["I.PAIN_NRS.PAIN_NRS"] == str(old)
    assert values["I.PAIN_NRS.ADMIN.RESPONSE_VERSION"] == "1"
    assert len(forms) == len(_db_rows(ctx_factory, edc.study_id, current_only=True))
    qs = csv.DictReader(io.StringIO(b"".join(export.sdtm_csv("qs")).decode()))
    assert [r["QSSTRESC"] for r in qs if r["USUBJID"] == "RES001-DMPM-02-EDC-G02"
            and r["QSTESTCD"] == "PAINNRS" and r["VISIT"] == "INFUSION 1 DAY 7"] == [str(old)]

    cursor = CursorCodec(app.config["SECRET_KEY"]).encode(study.id, upto)
    nxt = _get(client, edc, f"/odm/clinical?since={cursor}")
    changed = [(s, e, f, node.get("TransactionType")) for s, e, f, _, node in _forms(nxt)]
    assert changed == [("EDC-G02", "SE.INF1_D7", "F.PAIN_NRS", "Update")]
