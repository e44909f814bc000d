"""Virtual visits through the API: schedule, reschedule and cancel, each with its reason."""

from datetime import UTC, datetime

from sqlalchemy import text

from tests.factories import enrol_over_api


def test_a_visit_is_scheduled_rescheduled_and_cancelled_with_reasons(app, gnv, clock,
                                                                    staff_client):
    clock.set(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-501", enrolled_on="2026-02-20")
    visits = f"/api/v1/participants/{pid}/visits"
    created = gnv.post(visits, json={"starts_at_local": "2026-03-09T14:00", "mode": "video",
                                     "join_url": "https://meet.example.org/gnv-501",
                                     "note": "Month 0 check-in"})
    assert created.status_code == 201, created.json
    visit = created.json
    # 14:00 the day after DST starts is EDT (-04:00): 18:00 UTC.
    assert (visit["starts_at_local"], visit["status"]) == ("2026-03-09T14:00:00-04:00",
                                                           "scheduled")
    assert visit["starts_at_utc"] == "2026-03-09T18:00:00+00:00"

    no_reason = gnv.patch(f"{visits}/{visit['id']}", json={"starts_at_local": "2026-03-10T09:00"})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json["errors"]["json"]
    moved = gnv.patch(f"{visits}/{visit['id']}", json={
        "starts_at_local": "2026-03-10T09:00", "mode": "phone",
        "reason": "Participant asked for a morning call"})
    assert moved.status_code == 200, moved.json
    assert (moved.json["starts_at_local"], moved.json["mode"], moved.json["revision"]) == (
        "2026-03-10T09:00:00-04:00", "phone", visit["revision"] + 1)

    mia = staff_client("coordinator.mia@example.org")
    assert mia.post(f"{visits}/{visit['id']}/cancel",
                    json={"reason": "not my site"}).status_code == 404
    cancelled = gnv.post(f"{visits}/{visit['id']}/cancel",
                         json={"reason": "Participant in hospital; site will rebook"})
    assert cancelled.status_code == 200, cancelled.json
    assert (cancelled.json["status"], cancelled.json["cancel_reason"]) == (
        "cancelled", "Participant in hospital; site will rebook")
    again = gnv.post(f"{visits}/{visit['id']}/cancel", json={"reason": "twice"})
    assert again.status_code == 409

    schedule = gnv.get(f"/api/v1/participants/{pid}/schedule").json
    assert [(v["id"], v["status"]) for v in schedule["visits"]] == [(visit["id"], "cancelled")]
    with app.extensions["pro"]["engine"].connect() as conn:
        trail = conn.execute(text(
            "SELECT action, reason FROM audit_event WHERE entity_type = 'visit' "
            "AND entity_id = :id ORDER BY id"), {"id": str(visit["id"])}).all()
    assert trail == [("visit.schedule", None),
                     ("visit.reschedule", "Participant asked for a morning call"),
                     ("visit.cancel", "Participant in hospital; site will rebook")]


def test_a_visit_in_the_past_is_refused_and_nothing_is_stored(gnv, clock):
    clock.set(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-502", enrolled_on="2026-02-20")
    response = gnv.post(f"/api/v1/participants/{pid}/visits",
                        json={"starts_at_local": "2026-03-01T09:00", "mode": "phone"})
    assert response.status_code == 422
    assert "starts_at_local" in response.json["errors"]["json"]
    assert gnv.get(f"/api/v1/participants/{pid}/schedule").json["visits"] == []


def test_the_study_calendar_lists_a_visit_for_its_own_site_only(gnv, clock, staff_client):
    clock.set(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    pid = enrol_over_api(gnv, "GNV-503", enrolled_on="2026-02-20")
    assert gnv.post(f"/api/v1/participants/{pid}/visits", json={
        "starts_at_local": "2026-03-04T23:30", "mode": "phone"}).status_code == 201
    # 23:30 EST on 03-04 is 04:30 UTC on 03-05: the event is on its local date.
    mine = [e for e in gnv.get("/api/v1/calendar?start=2026-03-04&end=2026-03-04").json
            if e["kind"] == "visit"]
    assert [(e["subject_key"], e["at_local"]) for e in mine] == [
        ("GNV-503", "2026-03-04T23:30:00-05:00")]
    assert not [e for e in gnv.get("/api/v1/calendar?start=2026-03-05&end=2026-03-05").json
                if e["kind"] == "visit" and e["subject_key"] == "GNV-503"]
    mia = staff_client("coordinator.mia@example.org").get(
        "/api/v1/calendar?start=2026-03-04&end=2026-03-04").json
    assert not [e for e in mia if e["subject_key"] == "GNV-503"]
