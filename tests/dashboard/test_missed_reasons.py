"""Issue 16 item 1: a coordinator records why a survey was missed; that acknowledges it on the
attention list, is audited, and shows on the grid and the timeline."""

from __future__ import annotations

from sqlalchemy import select

from pro_server.audit.models import AuditEvent

GNV = "coordinator.gnv@example.org"
ATTENTION = "/api/v1/dashboard/attention"


def _url(story, key: str, code: str) -> str:
    return f"/api/v1/participants/{story.ids[key]}/assessments/{code}/missed-reason"


def _missed(client) -> list[tuple[str, str]]:
    return [(i["subject_key"], i["assessment_code"])
            for i in client.get(ATTENTION).json["items"] if i["kind"] == "missed"]


def test_a_recorded_reason_acknowledges_the_gap_and_shows_everywhere(story, ctx_factory):
    client = story.client(GNV)
    answer = client.put(_url(story, "GNV-002", "INF1_D7"), json={"reason": "too_unwell"})
    assert answer.status_code == 200, answer.json
    assert answer.json["missed_reason_label"] == "Too unwell"
    assert _missed(client) == [("GNV-001", "INF2_D7")]
    grid = client.get("/api/v1/dashboard/grid").json
    row = next(r for r in grid["rows"] if r["subject_key"] == "GNV-002")
    assert row["cells"]["INF1_D7"]["status"] == "missed"
    assert row["cells"]["INF1_D7"]["missed_reason"] == "Too unwell"
    assert row["cells"]["INF1_D30"]["missed_reason"] is None
    events = client.get(f"/api/v1/participants/{story.ids['GNV-002']}/timeline").json["events"]
    survey = next(e for e in events if e["kind"] == "assessment" and e["ref"]["code"] == "INF1_D7")
    assert survey["detail"] == "Missed: Too unwell"
    audit = ctx_factory().session.scalars(select(AuditEvent).where(
        AuditEvent.action == "assessment.missed_reason").order_by(AuditEvent.id)).all()
    assert [(e.actor_label, e.reason, e.after) for e in audit] == [
        (f"{GNV} (coordinator)", "Too unwell",
         {"missed_reason": "too_unwell", "missed_reason_text": None})]


def test_other_needs_its_text_and_a_changed_reason_keeps_the_first_in_the_audit(story,
                                                                              ctx_factory):
    client = story.client(GNV)
    url = _url(story, "GNV-001", "INF2_D7")
    refused = client.put(url, json={"reason": "other"})
    assert refused.status_code == 422
    assert refused.json["errors"]["json"] == {"text": ["Say what the reason was"]}
    unknown = client.put(url, json={"reason": "forgot"})
    assert unknown.status_code == 422
    assert "reason" in unknown.json["errors"]["json"]
    assert ("GNV-001", "INF2_D7") in _missed(client)  # nothing recorded by a refused request
    assert client.put(url, json={"reason": "not_reached"}).status_code == 200
    changed = client.put(url, json={"reason": "other", "text": "  Away at   her daughter's "})
    assert changed.json["missed_reason_label"] == "Other: Away at her daughter's"
    audit = ctx_factory().session.scalars(select(AuditEvent).where(
        AuditEvent.action == "assessment.missed_reason").order_by(AuditEvent.id)).all()
    assert [(e.before["missed_reason"], e.after["missed_reason"]) for e in audit] == [
        (None, "not_reached"), ("not_reached", "other")]


def test_only_a_missed_survey_of_ones_own_site_takes_a_reason(story):
    client = story.client(GNV)
    on_time = client.put(_url(story, "GNV-001", "BASELINE"), json={"reason": "declined"})
    assert on_time.status_code == 409
    open_now = client.put(_url(story, "GNV-004", "INF1_D7"), json={"reason": "declined"})
    assert open_now.status_code == 409
    assert client.put(_url(story, "GNV-001", "NOPE"), json={"reason": "declined"}
                      ).status_code == 404
    other_site = story.client("coordinator.mia@example.org").put(
        _url(story, "GNV-002", "INF1_D7"), json={"reason": "declined"})
    assert other_site.status_code == 404
    monitor = story.client("monitor@example.org").put(
        _url(story, "GNV-002", "INF1_D7"), json={"reason": "declined"})
    assert monitor.status_code == 403
    assert ("GNV-002", "INF1_D7") in _missed(client)
