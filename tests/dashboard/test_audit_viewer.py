"""Issue 16 item 4: the audit trail viewer for monitors and investigators (read-only).

On the dashboard story, plus a week's work on top of it: a data change asked by the GNV
coordinator and approved under the investigator's e-signature, a phone number changed at
GNV, a time zone changed at MIA, and a second investigator bound to MIA alone."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from pro_server.audit.verify import verify_stored_chain
from pro_server.dashboard.audit_trail import day_range, field_changes
from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment
from pro_server.staff.models import Role
from pro_server.staff.services import create_staff_user
from pro_server.studies.models import Site
from tests.audit.test_audit_trail import tamper  # noqa: F401  (the DBA's connection)
from tests.helpers import StaffClient

GNV = "coordinator.gnv@example.org"
MIA = "coordinator.mia@example.org"
INVESTIGATOR = "investigator@example.org"  # GNV and MIA
MONITOR = "monitor@example.org"
ADMIN = "admin@example.org"
MIA_PI = "pi.mia@example.org"
MIA_PI_PASSWORD = "mia-pi-password-long"
EVENTS = "/api/v1/audit/events"
NEW_PHONE = "+13525550199"


@pytest.fixture
def week(story, ctx_factory):
    """The story, then the week's changes through the API; returns a client maker."""
    ctx = ctx_factory()
    mia = ctx.session.scalar(select(Site).where(Site.code == "MIA"))
    create_staff_user(ctx, email=MIA_PI, name="Mia Principal", password=MIA_PI_PASSWORD,
                      role=Role.investigator, sites=[mia])
    ctx.session.commit()
    response = ctx.session.scalar(select(Response).join(Assessment).where(
        Assessment.participant_id == story.ids["GNV-004"], Assessment.code == "BASELINE",
        Response.instrument_code == "pain_nrs", Response.is_current.is_(True)))
    value = response.answers["pain_nrs"]["value"]
    gnv = story.client(GNV)
    asked = gnv.post("/api/v1/change-requests", json={
        "response_id": response.id, "item_id": "pain_nrs", "new_value": (value + 3) % 11,
        "reason": "Participant misread the scale", "source": "Phone call, notes"})
    assert asked.status_code == 201, asked.json
    approved = story.client(INVESTIGATOR).post(
        f"/api/v1/change-requests/{asked.json['id']}/approve",
        json={"reason": "Source notes checked", "signature": {
            "password": story.passwords[INVESTIGATOR], "meaning": "I approve this data change"}})
    assert approved.status_code == 200, approved.json
    changed = gnv.patch(f"/api/v1/participants/{story.ids['GNV-001']}",
                        json={"phone": NEW_PHONE, "reason": "New mobile number"})
    assert changed.status_code == 200, changed.json
    moved = story.client(MIA).patch(f"/api/v1/participants/{story.ids['MIA-001']}",
                                    json={"timezone": "America/Chicago", "reason": "Moved"})
    assert moved.status_code == 200, moved.json

    def client(email: str) -> StaffClient:
        if email == MIA_PI:
            return StaffClient.login(story.app_client(), MIA_PI, MIA_PI_PASSWORD)
        return story.client(email)

    return {"client": client, "value": value, "ids": story.ids}


def _all(client, **filters):
    answer = client.get(EVENTS, query_string={**filters, "page_size": 100})
    assert answer.status_code == 200, answer.json
    rows = answer.json
    total = json.loads(answer.headers["X-Pagination"])["total"]
    page = 2
    while len(rows) < total:
        rows += client.get(EVENTS, query_string={**filters, "page_size": 100,
                                                 "page": page}).json
        page += 1
    return rows


def test_a_monitor_reads_the_whole_study_newest_first(week):
    rows = _all(week["client"](MONITOR))
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert {r["site"] for r in rows} >= {"GNV", "MIA"}
    assert (rows[0]["action"], rows[0]["who"]) == ("staff.login", "sign-in as Max Monitor")
    move = rows[1]  # MIA-001's move, the last change made
    assert (move["action"], move["who"]) == ("participant.update",
                                             "Mateo Coordinator (coordinator)")
    assert (move["participant"], move["reason"]) == ("MIA-001", "Moved")
    assert move["changes"] == [
        {"field": "timezone", "before": "America/New_York", "after": "America/Chicago"}]


def test_a_change_shows_before_after_reason_and_signature(week):
    rows = _all(week["client"](MONITOR), participant="GNV-004")
    assert {r["participant"] for r in rows} == {"GNV-004"}
    actions = [r["action"] for r in rows]
    assert actions[:3] == ["change_request.approve", "response.correct", "change_request.create"]
    approve, correct = rows[0], rows[1]
    assert approve["reason"] == "Source notes checked"
    assert approve["signature"]["name"] == "Ines Investigator"
    assert approve["signature"]["meaning"] == "I approve this data change"
    assert approve["signature"]["signed_at"]
    assert approve["who"] == "Ines Investigator (investigator)"
    assert correct["reason"] == "Participant misread the scale"
    value = week["value"]
    assert {"field": "answers.pain_nrs.value", "before": value, "after": (value + 3) % 11} in (
        correct["changes"])
    assert {"field": "version", "before": 1, "after": 2} in correct["changes"]
    assert "answers.pain_nrs.value" not in {c["field"] for c in approve["changes"]}
    assert "investigator@example.org" not in json.dumps(rows)  # a name, never an email


def test_contact_data_never_appears(week):
    client = week["client"](MONITOR)
    rows = _all(client, participant="GNV-001", action="participant")
    update = next(r for r in rows if r["action"] == "participant.update")
    assert update["reason"] == "New mobile number"
    fields = {c["field"]: c for c in update["changes"]}
    assert fields.keys() == {"phone_ref"}  # the phone was set before and after; its key changed
    enrol = next(r for r in rows if r["action"] == "participant.enrol")
    assert {c["field"]: c["after"] for c in enrol["changes"]}["phone"] == "set"
    staff = _all(client, action="staff.create")
    assert {c["field"]: c["after"] for c in staff[0]["changes"]}["email"] == "[redacted]"
    everything = json.dumps(_all(client)) + client.get(EVENTS + ".csv").get_data(as_text=True)
    phones = [NEW_PHONE, NEW_PHONE[2:], "55501"]
    assert not [p for p in phones if p in everything]
    assert "@example.org" not in everything


def test_a_site_bound_investigator_never_sees_another_sites_events(week):
    client = week["client"](MIA_PI)
    rows = _all(client)
    assert rows
    assert {r["site"] for r in rows} <= {"MIA", None}
    assert not [r for r in rows if (r["participant"] or "").startswith("GNV")]
    assert {r["participant"] for r in rows if r["participant"]} >= {"MIA-001", "MIA-002"}
    unsited = {r["action"] for r in rows if r["site"] is None}
    assert unsited
    assert all(a.startswith("staff.") for a in unsited)
    whose = " ".join(r["who"] for r in rows if r["site"] is None)
    assert "Mateo Coordinator" in whose
    assert "Gina Coordinator" not in whose
    csv_text = client.get(EVENTS + ".csv").get_data(as_text=True)
    assert "GNV-" not in csv_text
    assert client.get(EVENTS, query_string={"site": "GNV"}).status_code == 404
    refused = client.get(EVENTS, query_string={"participant": "GNV-004"})
    assert refused.status_code == 422
    assert "participant" in refused.json["errors"]["query"]
    filters = client.get("/api/v1/audit/filters").json
    assert [s["code"] for s in filters["site_choices"]] == ["MIA"]
    assert (filters["timezone"], filters["timezone_of"]) == ("America/New_York", "site")
    assert "Gina Coordinator" not in {u["name"] for u in filters["users"]}


def test_who_may_read_the_trail(week):
    for email in (GNV, MIA):
        assert week["client"](email).get(EVENTS).status_code == 403
    assert week["client"](INVESTIGATOR).get(EVENTS).status_code == 200
    admin = _all(week["client"](ADMIN))
    assert admin
    assert {r["site"] for r in admin} == {None}  # admins handle no participant data
    assert not [r for r in admin if r["participant"]]
    anonymous = week["client"](MONITOR).client.application.test_client()
    assert anonymous.get(EVENTS + "?from=nonsense").status_code == 401


def test_filters_by_user_action_and_day(week):
    client = week["client"](MONITOR)
    users = client.get("/api/v1/audit/filters").json["users"]
    ines = next(u["id"] for u in users if u["name"] == "Ines Investigator")
    mine = _all(client, user=ines)
    assert mine
    assert {r["user_id"] for r in mine} == {ines}
    family = _all(client, action="change_request")
    assert {r["action"] for r in family} == {"change_request.create", "change_request.approve"}
    exact = _all(client, action="change_request.create")
    assert [r["action"] for r in exact] == ["change_request.create"]
    today = _all(client, **{"from": "2026-03-01", "to": "2026-03-01"})  # study zone: Florida
    assert today
    assert {r["occurred_at_local"][:10] for r in today} == {"2026-03-01"}
    assert {r["occurred_at_local"][-6:] for r in today} == {"-05:00"}
    before = _all(client, to="2026-02-28")
    assert before
    assert max(r["occurred_at_local"][:10] for r in before) == "2026-02-28"
    assert len(today) + len(before) == len(_all(client))


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
    ({"from": "0001-01-01"}, "from"),
    ({"action": "participant.update; drop"}, "action"),
    ({"user": "0"}, "user"),
    ({"user": "99999"}, "user"),
    ({"participant": "NOPE-1"}, "participant"),
    ({"page_size": "0"}, "page_size"),
])
def test_bad_input_is_a_422_naming_the_field(week, query, field):
    client = week["client"](MONITOR)
    for url in (EVENTS, EVENTS + ".csv") if field != "page_size" else (EVENTS,):
        answer = client.get(url, query_string=query)
        assert answer.status_code == 422, (url, answer.get_data(as_text=True))
        assert field in answer.json["errors"]["query"]


def test_the_csv_is_the_filtered_trail(week):
    client = week["client"](MONITOR)
    answer = client.get(EVENTS + ".csv", query_string={"participant": "GNV-004"})
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.headers["Content-Disposition"] == 'attachment; filename="audit-trail.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    shown = _all(client, participant="GNV-004")
    assert [r["action"] for r in rows] == [r["action"] for r in shown]
    assert {r["participant"] for r in rows} == {"GNV-004"}
    approve = rows[0]
    assert (approve["signed_by"], approve["signature_meaning"]) == (
        "Ines Investigator", "I approve this data change")
    correct = rows[1]
    value = week["value"]
    assert f"answers.pain_nrs.value: {value} -> {(value + 3) % 11}" in correct["changes"]
    assert correct["occurred_at_local"].endswith("-05:00")
    everything = list(csv.DictReader(io.StringIO(
        client.get(EVENTS + ".csv").get_data(as_text=True))))
    assert len(everything) == len(_all(client))


def test_the_chain_status_is_pro_audit_verify_s_result(week, app, tamper):  # noqa: F811
    client = week["client"](MONITOR)
    # No scheduler runs here: the viewer seals the committed tail first, as `pro audit verify`
    # does, so a monitor never reads "0 events checked" between two sealer runs.
    chain = client.get("/api/v1/audit/chain")
    assert chain.status_code == 200
    with app.extensions["pro"]["session_factory"]() as session:
        report = verify_stored_chain(session)
    assert chain.json["intact"] is True
    assert report.checked > 0
    assert chain.json["summary"] == f"{report.describe()}; unsealed tail: none"
    cli = app.test_cli_runner().invoke(args=["pro", "audit", "verify"]).output.strip()
    assert chain.json["summary"] == "; ".join(cli.splitlines())
    with tamper("update") as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 5"))
    broken = client.get("/api/v1/audit/chain").json
    assert broken["intact"] is False
    assert broken["details"]["broken_seq"] == 5
    assert "BROKEN" in broken["summary"]
    assert week["client"](GNV).get("/api/v1/audit/chain").status_code == 403


def test_days_are_whole_local_days_across_a_dst_change():
    since, until = day_range(date(2026, 3, 8), date(2026, 3, 8), "America/New_York")
    assert since == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight EST
    assert until == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # midnight EDT: a 23-hour day
    assert day_range(None, None, "America/New_York") == (None, None)


def test_changes_are_field_by_field_and_contact_values_are_redacted():
    before = {"status": "screening", "phone": "set", "contact": {"email": "a@b.org"},
              "gone": 1, "same": True}
    after = {"status": "enrolled", "phone": "set", "contact": {"email": "c@d.org"},
             "same": True, "signature": {"name": "Ines", "email": "ines@x.org"}}
    assert field_changes(before, after) == [
        {"field": "status", "before": "screening", "after": "enrolled"},
        {"field": "contact.email", "before": "[redacted]", "after": "[redacted]"},
        {"field": "gone", "before": 1, "after": None},
    ]  # the email changed: that shows, neither address does
    assert field_changes(None, {"staff_email": "x@y.org", "sms_consent": True}) == [
        {"field": "staff_email", "before": None, "after": "[redacted]"},
        {"field": "sms_consent", "before": None, "after": True}]
