"""Infusion corrections and protocol amendments move only what has not started."""

import json
import random
from datetime import UTC, datetime

from sqlalchemy import text

from pro_server.instruments import default_registry
from pro_server.instruments.examples import example_answers
from pro_server.responses.services import submit
from pro_server.schedule.models import Assessment
from tests.factories import enrol_over_api
from tests.schedule.conftest import by_code, give


def complete(ctx_factory, assessment_id: int) -> None:
    ctx = ctx_factory()
    a = ctx.session.get(Assessment, assessment_id)
    rng = random.Random(assessment_id)
    answers = {code: example_answers(default_registry().get(code), rng) for code in a.instruments}
    submit(ctx, a, f"test-{assessment_id}", answers, "en")
    ctx.session.commit()


def test_correcting_infusion_2_moves_its_windows_and_leaves_completed_ones(
        app, gnv, clock, ctx_factory):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-301", enrolled_on="2026-02-20")
    rows = by_code(give(gnv, pid, 1, "2026-03-05T10:00"))
    clock.set(datetime(2026, 4, 2, 15, 0, tzinfo=UTC))  # inside INF1_D30 (03-31..04-08)
    complete(ctx_factory, rows["INF1_D30"]["id"])
    clock.set(datetime(2026, 6, 3, 15, 0, tzinfo=UTC))
    before = by_code(give(gnv, pid, 2, "2026-06-03T09:00"))
    assert before["INF2_D7"]["first_day"] == "2026-06-08"
    clock.set(datetime(2026, 6, 9, 15, 0, tzinfo=UTC))  # INF2_D7 is open, not started
    after = by_code(give(gnv, pid, 2, "2026-06-08T09:00",
                         reason="Site entered the wrong date; infusion chart says June 8"))
    assert after["INF2_D7"]["first_day"] == "2026-06-13"
    assert after["INF2_D7"]["last_day"] == "2026-06-17"
    assert after["INF2_D30"]["first_day"] == "2026-07-04"
    assert after["INF2_D7"]["id"] == before["INF2_D7"]["id"]  # same row, new window
    assert after["INF1_D30"] == before["INF1_D30"]
    assert after["INF1_D30"]["status"] == "completed"
    with app.extensions["pro"]["engine"].connect() as conn:
        audit = conn.execute(text(
            "SELECT action, entity_id FROM audit_event WHERE reason = "
            "'Site entered the wrong date; infusion chart says June 8' ORDER BY id")).all()
        inf1_d30 = conn.execute(text(
            "SELECT action FROM audit_event WHERE entity_type = 'assessment' AND entity_id = :id "
            "ORDER BY id"), {"id": str(after["INF1_D30"]["id"])}).scalars().all()
        trail = conn.execute(text(
            "SELECT action, entity_id, before, after FROM audit_event "
            "WHERE action IN ('assessment.regenerate', 'infusion.correct') ORDER BY id")).all()
    print("\naudit trail of the correction:")
    for action, entity, old, new in trail[-3:]:
        old, new = json.loads(old), json.loads(new)
        fields = ("given_at_local",) if action == "infusion.correct" else ("first_day", "last_day")
        print(f"  {action} {entity}: {old.get('code', '')} " + ", ".join(
            f"{f} {old[f]} -> {new[f]}" for f in fields))
    assert audit == [("assessment.regenerate", str(after["INF2_D7"]["id"])),
                     ("assessment.regenerate", str(after["INF2_D30"]["id"])),
                     ("infusion.correct", audit[2][1])]
    assert inf1_d30 == ["assessment.create"]  # completed, never regenerated


def test_a_correction_needs_a_reason(gnv, clock):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-302", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    response = gnv.put(f"/api/v1/participants/{pid}/infusions/1",
                       json={"status": "given", "given_at_local": "2026-03-04T10:00"})
    assert response.status_code == 422
    assert "reason" in response.json["errors"]["json"]


def test_infusion_not_given_cancels_its_assessments_with_the_reason(gnv, clock):
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-303", enrolled_on="2026-02-20")
    give(gnv, pid, 1, "2026-03-05T10:00")
    response = gnv.put(f"/api/v1/participants/{pid}/infusions/1", json={
        "status": "not_given", "reason": "Infusion reaction before start; not administered"})
    assert response.status_code == 200, response.json
    rows = by_code(response.json)
    assert rows["INF1_D7"]["status"] == "cancelled"
    assert rows["INF1_D7"]["cancel_reason"] == "Infusion reaction before start; not administered"


def test_moving_a_participant_from_v1_to_v2_midway(app, staff_client, gnv, clock, ctx_factory,
                                                   demo):
    admin = staff_client("admin@example.org")
    signature = {"password": demo["admin@example.org"],
                 "meaning": "I approve applying this protocol amendment"}
    clock.set(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))
    assert admin.post("/api/v1/studies/RES001-DMPM-02/protocol", json={
        "version": 1, "reason": "Study started under the abstract's design (v1)"}
    ).status_code == 401  # unsigned
    assert admin.post("/api/v1/studies/RES001-DMPM-02/protocol", json={
        "version": 1, "reason": "Study started under the abstract's design (v1)",
        "signature": signature}).status_code == 200
    pid = enrol_over_api(gnv, "GNV-304", enrolled_on="2026-01-05")
    schedule = give(gnv, pid, 1, "2026-01-10T10:00")
    assert schedule["protocol_version"] == "1"
    assert [i["protocol_date"] for i in schedule["infusions"]][:4] == [
        "2026-01-10", "2026-05-10", "2026-09-07", "2027-01-05"]  # Day 0, 120, 240, 360
    clock.set(datetime(2026, 1, 16, 15, 0, tzinfo=UTC))  # INF1_D7 window 01-15..01-19
    complete(ctx_factory, by_code(schedule)["INF1_D7"]["id"])
    clock.set(datetime(2026, 2, 5, 15, 0, tzinfo=UTC))  # INF1_D30 open (02-05..02-13)
    moved = admin.post("/api/v1/studies/RES001-DMPM-02/protocol", json={
        "version": 2, "reason": "Amendment 1: registration design, 6 infusions",
        "signature": signature})
    assert moved.status_code == 200, moved.json
    after = gnv.get(f"/api/v1/participants/{pid}/schedule").json
    rows = by_code(after)
    print("\nv1 -> v2 midway (2026-02-05):")
    for old, new in zip(schedule["assessments"], after["assessments"], strict=True):
        print(f"  {new['code']:<9} v{old['protocol_version']} {old['first_day']}..{old['last_day']}"
              f" -> v{new['protocol_version']} {new['first_day']}..{new['last_day']}"
              f" {new['status']}")
    print("  infusion dates now:", [i["protocol_date"] for i in after["infusions"]])
    assert after["protocol_version"] == "2"
    assert rows["INF1_D7"]["status"] == "completed"
    assert rows["INF1_D7"]["protocol_version"] == "1"  # completed keeps its version
    assert rows["INF1_D30"]["protocol_version"] == "2"  # not started: follows v2
    assert [i["protocol_date"] for i in after["infusions"]] == [
        "2026-01-10", "2026-04-10", "2026-07-09", "2026-08-08", "2026-11-06", "2027-02-04"]
    assert [a["code"] for a in after["projected"]][-2:] == ["INF6_D7", "INF6_D30"]
    with app.extensions["pro"]["engine"].connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_event WHERE action LIKE '%protocol_change' ORDER BY id"))]
    assert actions.count("study.protocol_change") == 2
    assert "participant.protocol_change" in actions
    with app.extensions["pro"]["engine"].connect() as conn:
        signed = [json.loads(r[0]) for r in conn.execute(text(
            "SELECT after FROM audit_event WHERE action = 'study.amendment_signed' ORDER BY id"))]
    assert [(s["version"], s["signature"]["meaning"]) for s in signed] == [
        (1, "I approve applying this protocol amendment"),
        (2, "I approve applying this protocol amendment")]


def test_amendment_is_admin_only(gnv):
    response = gnv.post("/api/v1/studies/RES001-DMPM-02/protocol",
                        json={"version": 1, "reason": "not allowed"})
    assert response.status_code == 403


def test_the_amend_command_asks_the_signer_for_the_password(app, demo):
    command = ["pro", "protocol", "amend", "--study", "RES001-DMPM-02", "--version", "2",
               "--reason", "Amendment 1 approved by the IRB", "--signer", "admin@example.org"]
    runner = app.test_cli_runner()

    refused = runner.invoke(args=command, input="not-the-password\n")
    assert refused.exit_code == 1
    assert "signature refused" in refused.output
    signed = runner.invoke(args=command, input=f"{demo['admin@example.org']}\n")

    assert signed.exit_code == 0, signed.output
    assert 'Electronic signature: "I approve applying this protocol amendment"' in signed.output
    with app.extensions["pro"]["engine"].connect() as conn:
        (after,) = conn.execute(text(
            "SELECT after FROM audit_event WHERE action = 'study.amendment_signed'")).one()
    assert json.loads(after)["signature"]["name"] == "Ada Admin"
    assert runner.invoke(args=[*command[:-1], "coordinator.gnv@example.org"],
                         input="x\n").exit_code == 1  # not an admin
