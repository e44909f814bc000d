"""One participant: timeline, score trends, answers with their history; all site-scoped."""

import pytest
from sqlalchemy import text

GNV = "coordinator.gnv@example.org"


def test_timeline_tells_the_story_in_time_order(story):
    client = story.client(GNV)
    data = client.get(f"/api/v1/participants/{story.ids['GNV-001']}/timeline").json
    events = data["events"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    kinds = {e["kind"] for e in events}
    assert {"enrolment", "infusion", "assessment", "message", "reply"} <= kinds
    given = [e["title"] for e in events if e["kind"] == "infusion" and e["status"] == "given"]
    assert given == ["Infusion 1 (Day 0)", "Infusion 2 (Month 3)", "Infusion 3 (Month 6)"]
    surveys = {e["ref"]["code"]: e for e in events if e["kind"] == "assessment"}
    assert surveys["INF1_D30"]["status"] == "late"
    assert surveys["INF4_D7"]["ref"]["projected"] is True
    messages = [e for e in events if e["kind"] == "message"]
    assert {"failed", "sending", "pending", "cancelled"} & {m["status"] for m in messages}
    assert all(m["title"].startswith(("SMS ", "WEB ")) for m in messages)
    assert data["access"] == {"write": True, "approve": False}


def test_timeline_lists_visits_and_a_withdrawal(story):
    client = story.client(GNV)
    pid = story.ids["GNV-002"]
    created = client.post(f"/api/v1/participants/{pid}/visits", json={
        "starts_at_local": "2026-03-05T14:00", "mode": "phone"})
    assert created.status_code == 201, created.json
    events = client.get(f"/api/v1/participants/{pid}/timeline").json["events"]
    visit = next(e for e in events if e["kind"] == "visit")
    assert (visit["title"], visit["status"]) == ("Virtual visit by phone", "scheduled")
    withdrawn = client.get(f"/api/v1/participants/{story.ids['GNV-006']}/timeline").json
    assert [e["detail"] for e in withdrawn["events"] if e["kind"] == "withdrawal"] == [
        "Demo: moved out of state"]


def test_trends_give_every_endpoint_score_with_infusions_marked(story):
    data = story.client(GNV).get(f"/api/v1/participants/{story.ids['GNV-001']}/trends").json
    series = {(s["instrument"], s["key"]): s for s in data["series"]}
    assert set(series) == {
        ("pain_nrs", "pain_nrs"), ("ptga_vas", "ptga_mm"), ("haq_di", "haq_di"),
        ("promis_gh", "gph_t"), ("promis_gh", "gmh_t"),
        *(("rand36", k) for k in ("physical_functioning", "role_physical", "role_emotional",
                                  "energy_fatigue", "emotional_wellbeing", "social_functioning",
                                  "pain", "general_health"))}
    pain = series[("pain_nrs", "pain_nrs")]
    assert [p["assessment_code"] for p in pain["points"]] == [
        "BASELINE", "INF1_D7", "INF1_D30", "INF2_D30", "INF3_D7"]
    assert all(0 <= p["value"] <= 10 for p in pain["points"])
    assert (pain["min"], pain["max"], pain["higher_is_better"]) == (0, 10, False)
    # RAND-36 is asked at baseline and the Day 30 surveys only.
    rand = series[("rand36", "physical_functioning")]
    assert [p["assessment_code"] for p in rand["points"]] == ["BASELINE", "INF1_D30", "INF2_D30"]
    assert [i["number"] for i in data["infusions"]] == [1, 2, 3]


def test_answers_are_listed_with_item_texts_and_labels(story):
    data = story.client(GNV).get(f"/api/v1/participants/{story.ids['GNV-004']}/responses").json
    baseline = [r for r in data["responses"] if r["assessment_code"] == "BASELINE"]
    # in the order the participant was asked them, not by code
    assert [r["instrument_code"] for r in baseline] == [
        "pain_nrs", "ptga_vas", "haq_di", "promis_gh", "rand36"]
    pain = next(r for r in baseline if r["instrument_code"] == "pain_nrs")
    assert (pain["version"], pain["is_current"], pain["recorded_by"]) == (1, True, "participant")
    assert pain["answers"][0]["item_id"] == "pain_nrs"
    assert pain["scores"][0]["key"] == "pain_nrs"
    haq = next(r for r in baseline if r["instrument_code"] == "haq_di")
    assert any(": " in a["label"] for a in haq["answers"] if a["value"] is not None)
    assert data["instruments"][pain["instrument"]]["items"]["pain_nrs"]["max"] == 10


@pytest.mark.parametrize("view", ["timeline", "trends", "responses"])
def test_another_sites_participant_is_not_found(story, view):
    url = f"/api/v1/participants/{story.ids['MIA-001']}/{view}"
    assert story.client(GNV).get(url).status_code == 404
    assert story.client("monitor@example.org").get(url).status_code == 200
    assert story.client("admin@example.org").get(url).status_code == 404


def test_the_page_knows_what_the_caller_may_do(story):
    url = f"/api/v1/participants/{story.ids['GNV-001']}/timeline"
    assert story.client("monitor@example.org").get(url).json["access"] == {
        "write": False, "approve": False}
    assert story.client("investigator@example.org").get(url).json["access"] == {
        "write": True, "approve": True}


def test_the_timeline_says_why_a_text_failed(story):
    pid = story.ids["GNV-002"]
    events = story.client(GNV).get(f"/api/v1/participants/{pid}/timeline").json["events"]
    failed = [e["ref"] for e in events if e["kind"] == "message" and e["status"] == "failed"]
    assert [(r["error_code"], r["status_reason"]) for r in failed] == [
        ("30003", "Twilio 30003: unreachable handset")]


def test_texts_at_the_same_instant_are_listed_in_the_order_they_were_queued(story, engine):
    """Ties in time keep the order the rows were made in, whatever order the database reads
    them in: on PostgreSQL an updated row moves to the end of its table."""
    pid = story.ids["GNV-001"]
    with engine.begin() as conn:
        first, second = conn.execute(text(
            "SELECT id FROM outbox_message WHERE participant_id = :p ORDER BY id LIMIT 2"),
            {"p": pid}).scalars().all()
        at = conn.execute(text("SELECT due_at FROM outbox_message WHERE id = :id"),
                          {"id": first}).scalar_one()
        for row in (second, first):  # the first queued is the last written
            conn.execute(text("UPDATE outbox_message SET sent_at = :at, due_at = :at "
                              "WHERE id = :id"), {"at": at, "id": row})
    events = story.client(GNV).get(f"/api/v1/participants/{pid}/timeline").json["events"]
    listed = [e["ref"]["message_id"] for e in events if e["kind"] == "message"
              and e["ref"]["message_id"] in (first, second)]
    assert listed == [first, second]
