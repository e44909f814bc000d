"""Issue 16 item 4 in the browser: a monitor opens the audit trail, sees the chain's status
first, finds a data change with its before/after, reason and e-signature by participant, and
downloads the same as CSV. Coordinators have no audit trail link."""

from __future__ import annotations

import csv
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment
from tests.browser.conftest import axe_violations, screenshot

MONITOR = "monitor@example.org"
INVESTIGATOR = "investigator@example.org"
GNV = "coordinator.gnv@example.org"


def _approved_change(story, ctx_factory) -> None:
    session = ctx_factory().session
    response = session.scalar(select(Response).join(Assessment).where(
        Assessment.participant_id == story.ids["GNV-004"], Assessment.code == "BASELINE",
        Response.instrument_code == "pain_nrs", Response.is_current.is_(True)))
    asked = story.client(GNV).post("/api/v1/change-requests", json={
        "response_id": response.id, "item_id": "pain_nrs",
        "new_value": (response.answers["pain_nrs"]["value"] + 3) % 11,
        "reason": "Participant misread the scale", "source": "Phone call, notes"})
    approved = story.client(INVESTIGATOR).post(
        f"/api/v1/change-requests/{asked.json['id']}/approve",
        json={"reason": "Source notes checked", "signature": {
            "password": story.passwords[INVESTIGATOR], "meaning": "I approve this data change"}})
    assert approved.status_code == 200, approved.json


def test_a_monitor_reviews_the_audit_trail(signed_in, story, ctx_factory):
    _approved_change(story, ctx_factory)
    page = signed_in(MONITOR)
    page.get_by_role("link", name="Audit trail").click()
    expect(page.locator("#chain")).to_contain_text("Tamper check passed")
    expect(page.locator("#chain")).to_contain_text("audit chain intact: ")
    rows = page.locator("#events tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.get_by_text("Times and days in America/New_York")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "dashboard-audit-trail", full_page=False)

    page.get_by_label("Participant").fill("GNV-004")
    page.get_by_label("Participant").press("Enter")
    approve = page.locator("#events tr[data-action='change_request.approve']")
    expect(approve).to_contain_text("Ines Investigator")
    expect(approve).to_contain_text("“I approve this data change”")
    expect(approve).to_contain_text("Source notes checked")
    correct = page.locator("#events tr[data-action='response.correct']")
    expect(correct).to_contain_text("Participant misread the scale")
    expect(correct.locator("del").first).to_be_visible()
    page.get_by_label("Action").select_option("change_request")
    expect(rows).to_have_count(2)
    assert axe_violations(page) == []
    screenshot(page, "dashboard-audit-trail-filtered")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    with Path(info.value.path()).open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [r["action"] for r in lines] == ["change_request.approve", "change_request.create"]
    assert lines[0]["signed_by"] == "Ines Investigator"
    assert {r["participant"] for r in lines} == {"GNV-004"}

    page.get_by_label("From").fill("2030-01-01")
    page.get_by_label("From").dispatch_event("change")
    expect(page.get_by_text("No events match.")).to_be_visible()


def test_coordinators_have_no_audit_trail(signed_in, live_server):
    page = signed_in(GNV)
    expect(page.get_by_role("link", name="Messages")).to_be_visible()
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)
    page.goto(f"{live_server.url}/dashboard/audit.html")
    page.wait_for_url(f"{live_server.url}/dashboard/")
