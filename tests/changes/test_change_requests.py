"""Data-change requests: a coordinator asks, an investigator of the site decides; approval
makes a new response version with recomputed scores and keeps the old one."""

import pytest
from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.edc.services import create_client
from pro_server.responses.models import Response
from pro_server.responses.services import correct_answer
from pro_server.schedule.models import Assessment
from pro_server.studies.services import get_study

GNV = "coordinator.gnv@example.org"
INVESTIGATOR = "investigator@example.org"


def current(ctx_factory, story, subject="GNV-004", code="BASELINE", instrument="pain_nrs"):
    session = ctx_factory().session
    return session.scalar(select(Response).join(Assessment).where(
        Assessment.participant_id == story.ids[subject], Assessment.code == code,
        Response.instrument_code == instrument, Response.is_current.is_(True)))


def signed(story, email, body=None, meaning="I approve this data change"):
    """A decision's body with the decider's electronic signature (password re-entered)."""
    return {**(body or {}), "signature": {"password": story.passwords[email],
                                          "meaning": meaning}}


REJECT = "I reject this data change"


def ask(client, response, item="pain_nrs", value=None, **extra):
    body = {"response_id": response.id, "item_id": item,
            "new_value": (response.answers[item]["value"] + 3) % 11 if value is None else value,
            "reason": "Participant misread the scale", "source": "Phone call 2026-03-01, notes",
            **extra}
    return client.post("/api/v1/change-requests", json=body)


def test_approval_makes_a_new_version_recomputes_scores_and_keeps_the_old(story, ctx_factory):
    before = current(ctx_factory, story)
    old, new = before.answers["pain_nrs"]["value"], (before.answers["pain_nrs"]["value"] + 3) % 11
    asked = ask(story.client(GNV), before)
    assert asked.status_code == 201, asked.json
    assert (asked.json["status"], asked.json["old_value"], asked.json["new_value"]) == (
        "pending", old, new)
    assert asked.json["can_decide"] is False  # the coordinator cannot approve
    investigator = story.client(INVESTIGATOR)
    listed = investigator.get("/api/v1/change-requests?status=pending").json
    assert [(c["id"], c["can_decide"]) for c in listed] == [(asked.json["id"], True)]

    approved = investigator.post(f"/api/v1/change-requests/{asked.json['id']}/approve",
                                 json=signed(story, INVESTIGATOR,
                                             {"reason": "Source notes checked"}))
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert approved.json["decided_by"] == "Ines Investigator"

    after = current(ctx_factory, story)
    assert after.id == approved.json["new_response_id"]
    assert (after.version, after.replaces_id) == (2, before.id)
    assert after.scores["scores"]["pain_nrs"]["value"] == new
    assert (after.change_reason, after.change_source) == (
        "Participant misread the scale", "Phone call 2026-03-01, notes")
    assert after.recorded_by == "investigator@example.org (investigator)"
    session = ctx_factory().session
    first = session.get(Response, before.id)
    assert (first.is_current, first.answers["pain_nrs"]["value"]) == (False, old)

    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type.in_(("change_request", "response")))
        .order_by(AuditEvent.id.desc()).limit(3)).all()
    assert actions == ["change_request.approve", "response.correct", "change_request.create"]

    pid = story.ids["GNV-004"]
    trend = next(s for s in story.client(GNV).get(f"/api/v1/participants/{pid}/trends").json[
        "series"] if s["key"] == "pain_nrs")
    assert [(p["value"], p["version"]) for p in trend["points"]] == [(new, 2)]
    versions = [(r["version"], r["is_current"]) for r in story.client(GNV).get(
        f"/api/v1/participants/{pid}/responses").json["responses"]
        if r["instrument_code"] == "pain_nrs"]
    assert versions == [(2, True), (1, False)]


def test_the_edc_receives_the_approved_change_as_an_update(story, ctx_factory, app):
    ctx = ctx_factory()
    _, token = create_client(ctx, get_study(ctx.session), "Sponsor EDC", ["scores", "responses"])
    ctx.session.commit()
    edc = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/edc/studies/RES001-DMPM-02/records?limit=1000"
    cursor = edc.get(url, headers=headers).json["next_cursor"]
    asked = ask(story.client(GNV), current(ctx_factory, story))
    story.client(INVESTIGATOR).post(f"/api/v1/change-requests/{asked.json['id']}/approve",
                                    json=signed(story, INVESTIGATOR))
    update = edc.get(f"{url}&since={cursor}", headers=headers).json["records"]
    assert len(update) == 1
    assert update[0]["version"] == 2
    assert update[0]["replaces"]["version"] == 1
    assert update[0]["change"]["reason"] == "Participant misread the scale"
    assert update[0]["scores"]["pain_nrs"]["value"] == asked.json["new_value"]


def test_a_rejection_needs_a_reason_and_changes_nothing(story, ctx_factory):
    before = current(ctx_factory, story)
    asked = ask(story.client(GNV), before).json
    investigator = story.client(INVESTIGATOR)
    no_reason = investigator.post(f"/api/v1/change-requests/{asked['id']}/reject",
                                  json=signed(story, INVESTIGATOR, meaning=REJECT))
    assert no_reason.status_code == 422
    rejected = investigator.post(f"/api/v1/change-requests/{asked['id']}/reject",
                                 json=signed(story, INVESTIGATOR,
                                             {"reason": "The answer matches the source"},
                                             meaning=REJECT))
    assert rejected.json["status"] == "rejected"
    assert current(ctx_factory, story).id == before.id
    again = investigator.post(f"/api/v1/change-requests/{asked['id']}/approve",
                              json=signed(story, INVESTIGATOR))
    assert again.status_code == 409


def test_only_an_investigator_of_the_site_other_than_the_requester_decides(story, ctx_factory):
    investigator = story.client(INVESTIGATOR)
    own = ask(investigator, current(ctx_factory, story)).json
    assert own["can_decide"] is False
    assert investigator.post(f"/api/v1/change-requests/{own['id']}/approve",
                             json=signed(story, INVESTIGATOR)).status_code == 403
    asked = ask(story.client(GNV), current(ctx_factory, story, instrument="ptga_vas"),
                item="ptga_vas").json
    gnv = story.client(GNV)
    assert gnv.post(f"/api/v1/change-requests/{asked['id']}/approve",
                    json=signed(story, GNV)).status_code == 403
    mia = story.client("coordinator.mia@example.org")
    assert mia.post(f"/api/v1/change-requests/{asked['id']}/approve",
                    json=signed(story, "coordinator.mia@example.org")).status_code == 404
    assert mia.get(f"/api/v1/change-requests/{asked['id']}").status_code == 404
    assert mia.get("/api/v1/change-requests").json == []
    monitor = story.client("monitor@example.org")
    assert monitor.get(f"/api/v1/change-requests/{asked['id']}").status_code == 200
    assert monitor.post(f"/api/v1/change-requests/{asked['id']}/approve",
                        json=signed(story, "monitor@example.org")).status_code == 403


def test_who_may_ask(story, ctx_factory):
    gnv_response = current(ctx_factory, story)
    assert ask(story.client("monitor@example.org"), gnv_response).status_code == 403
    assert ask(story.client("coordinator.mia@example.org"), gnv_response).status_code == 404
    assert ask(story.client("admin@example.org"), gnv_response).status_code == 404


@pytest.mark.parametrize(("item", "value", "field"), [
    ("pain_nrs", 11, "new_value"),
    ("pain_nrs", "seven", "new_value"),
    ("pain_nrs", None, "new_value"),  # a required answer cannot be removed
    ("no_such_item", 3, "item_id"),
])
def test_invalid_new_values_are_refused(story, ctx_factory, item, value, field):
    response = current(ctx_factory, story)
    body = {"response_id": response.id, "item_id": item, "new_value": value,
            "reason": "Typo", "source": "Source notes"}
    refused = story.client(GNV).post("/api/v1/change-requests", json=body)
    assert refused.status_code == 422, refused.json
    assert field in refused.json["errors"]["json"]


def test_the_same_value_or_a_second_pending_request_is_refused(story, ctx_factory):
    response = current(ctx_factory, story)
    gnv = story.client(GNV)
    same = ask(gnv, response, value=response.answers["pain_nrs"]["value"])
    assert same.status_code == 422
    assert ask(gnv, response).status_code == 201
    assert ask(gnv, response).status_code == 409
    assert ask(story.client(INVESTIGATOR), response).status_code == 409


def test_changes_to_two_answers_apply_one_after_the_other(story, ctx_factory):
    haq = current(ctx_factory, story, instrument="haq_di")
    gnv = story.client(GNV)
    first, second = (ask(gnv, haq, item=item, value=(haq.answers[item]["value"] + 1) % 4).json
                     for item in ("dress", "walk_outdoors"))
    investigator = story.client(INVESTIGATOR)
    for change in (first, second):
        decided = investigator.post(f"/api/v1/change-requests/{change['id']}/approve",
                                    json=signed(story, INVESTIGATOR))
        assert decided.status_code == 200, decided.json
    latest = current(ctx_factory, story, instrument="haq_di")
    assert latest.version == 3
    assert latest.answers["dress"]["value"] == first["new_value"]
    assert latest.answers["walk_outdoors"]["value"] == second["new_value"]


def test_an_answer_changed_since_the_request_cannot_be_approved(story, ctx_factory):
    response = current(ctx_factory, story)
    asked = ask(story.client(GNV), response).json
    ctx = ctx_factory()
    fresh = ctx.session.get(Response, response.id)
    correct_answer(ctx, fresh, "pain_nrs", (fresh.answers["pain_nrs"]["value"] + 5) % 11,
                   reason="Corrected elsewhere", source="Paper form", approved_by="test")
    ctx.session.commit()
    late = story.client(INVESTIGATOR).post(f"/api/v1/change-requests/{asked['id']}/approve",
                                           json=signed(story, INVESTIGATOR))
    assert late.status_code == 409
    assert ask(story.client(GNV), response).status_code == 409  # no longer the current version


def _haq_with(ctx_factory, story, *steps):  # type: ignore[no-untyped-def]
    """GNV-004's baseline HAQ-DI, corrected step by step through the real service."""
    ctx = ctx_factory()
    response = ctx.session.get(Response, current(ctx_factory, story, instrument="haq_di").id)
    for item, value in steps:
        if response.answers.get(item, {}).get("value") != value:
            response = correct_answer(ctx, response, item, value, reason="Arrange",
                                      source="Test", approved_by="test")
    ctx.session.commit()
    return current(ctx_factory, story, instrument="haq_di")


def test_a_change_request_is_checked_as_a_whole_response_like_a_submission(story, ctx_factory):
    """enable_when holds on this path too: aids_other_p2 only when aids_p2 includes 'other'."""
    gnv = story.client(GNV)
    haq = _haq_with(ctx_factory, story, ("aids_other_p2", None), ("aids_p2", ["jar_opener"]))
    orphan = ask(gnv, haq, item="aids_other_p2", value=["grip"])
    assert orphan.status_code == 422, orphan.json
    assert orphan.json["errors"]["json"]["new_value"] == [
        "does not apply unless aids_p2 includes 'other'"]

    haq = _haq_with(ctx_factory, story, ("aids_p2", ["other"]), ("aids_other_p2", ["grip"]))
    emptied = ask(gnv, haq, item="aids_p2", value=[])
    assert emptied.status_code == 422, emptied.json
    assert emptied.json["errors"]["json"]["new_value"] == [
        "aids_other_p2: does not apply unless aids_p2 includes 'other'"]
    # Removing the dependent answer first, then emptying the list, is the valid way.
    investigator = story.client(INVESTIGATOR)
    for item, value in (("aids_other_p2", None), ("aids_p2", [])):
        asked = gnv.post("/api/v1/change-requests", json={
            "response_id": current(ctx_factory, story, instrument="haq_di").id, "item_id": item,
            "new_value": value, "reason": "Participant has no other aid", "source": "Phone call"})
        assert asked.status_code == 201, asked.json
        approved = investigator.post(f"/api/v1/change-requests/{asked.json['id']}/approve",
                                     json=signed(story, INVESTIGATOR))
        assert approved.status_code == 200, approved.json
    latest = current(ctx_factory, story, instrument="haq_di")
    assert (latest.answers["aids_p2"]["value"], "aids_other_p2" in latest.answers) == ([], False)
