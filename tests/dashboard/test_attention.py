"""The attention list: what a coordinator should act on, most urgent first."""

from datetime import timedelta

from sqlalchemy import select

from pro_server.responses.services import save_draft
from pro_server.schedule.models import Assessment

GNV = "coordinator.gnv@example.org"


def items(client, url="/api/v1/dashboard/attention") -> list[tuple[str, str, str | None]]:
    return [(i["kind"], i["subject_key"], i["assessment_code"])
            for i in client.get(url).json["items"]]


def test_every_kind_of_problem_in_order_of_urgency(story):
    assert items(story.client(GNV)) == [
        ("closing_soon", "GNV-004", "INF1_D7"),
        ("message_review", "GNV-001", None),
        ("possible_opt_out", "GNV-001", None),
        ("message_failed", "GNV-002", None),
        ("invalid_number", "GNV-004", None),
        ("opted_out", "GNV-003", None),
        ("missed", "GNV-001", "INF2_D7"),
        ("missed", "GNV-002", "INF1_D7"),
    ]


def test_each_item_says_what_happened_and_what_to_do(story):
    data = story.client(GNV).get("/api/v1/dashboard/attention").json
    assert [k["kind"] for k in data["kinds"]][:3] == [
        "closing_soon", "message_review", "possible_opt_out"]
    first = data["items"][0]
    assert first["detail"] == "INF1_D7: closes in 38 h"
    assert first["heading"] == "Survey window closing within 48 hours"
    assert first["action"] == "Call or send a reminder now"
    assert first["at"] == "2026-03-03T05:00:00+00:00"  # midnight ending Mar 2 in Florida
    failed = story.client(GNV).get("/api/v1/dashboard/attention").json["items"][3]
    assert failed["detail"] == "last day failed (30003)"
    assert failed["message_id"] is not None


def test_every_missed_survey_stays_on_the_list_oldest_first_however_old(story, clock):
    """Issue 16 item 1: the list looked back 7 days only, so GNV-002's INF1_D7 (missed 25 days
    ago) was absent while the grid showed it missed."""
    gnv = story.client(GNV)
    missed = [i for i in gnv.get("/api/v1/dashboard/attention").json["items"]
              if i["kind"] == "missed"]
    assert [(i["subject_key"], i["assessment_code"]) for i in missed] == [
        ("GNV-001", "INF2_D7"), ("GNV-002", "INF1_D7")]
    assert missed[0]["at"] < missed[1]["at"]
    assert missed[0]["heading"] == "Survey missed, no reason recorded"
    clock.advance(timedelta(days=90))
    assert ("missed", "MIA-002", "INF1_D7") in items(story.client("coordinator.mia@example.org"))
    assert ("missed", "GNV-002", "INF1_D7") in items(gnv)


def test_a_started_survey_is_chased_through_its_grace_period(story, clock, ctx_factory):
    ctx = ctx_factory()
    a = ctx.session.scalar(select(Assessment).where(
        Assessment.participant_id == story.ids["GNV-004"], Assessment.code == "INF1_D7"))
    save_draft(ctx, a, "pain_nrs", {"pain_nrs": 4}, "en")
    ctx.session.commit()
    clock.set(a.window_end + timedelta(hours=2))  # the window closed; 10 h of grace remain
    listed = story.client(GNV).get("/api/v1/dashboard/attention").json["items"]
    closing = [i["detail"] for i in listed if i["kind"] == "closing_soon"]
    assert closing == ["INF1_D7: started, not finished; closes in 10 h"]


def test_resolved_problems_leave_the_list(story):
    client = story.client(GNV)
    listed = client.get("/api/v1/dashboard/attention").json["items"]
    reply = next(i for i in listed if i["kind"] == "possible_opt_out")
    answer = client.post(f"/api/v1/inbound-messages/{reply['message_id']}/resolve",
                         json={"reason": "Called her: she wants the texts", "apply_opt_out": False})
    assert answer.status_code == 200, answer.json
    assert "possible_opt_out" not in [i[0] for i in items(client)]


def test_coordinators_see_their_own_site_only(story):
    assert {s for _, s, _ in items(story.client("coordinator.mia@example.org"))} == {"MIA-002"}
    assert story.client(GNV).get("/api/v1/dashboard/attention?site=MIA").status_code == 404
    monitor = {s for _, s, _ in items(story.client("monitor@example.org"))}
    assert {"MIA-002", "GNV-004"} <= monitor
