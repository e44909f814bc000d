"""The coordinator's dashboard in Debian's chromium: sign-in, the grid over time, recording
an infusion, site scope, a data change from request to approval; axe-core on every page and
a screenshot of each (docs/screenshots/dashboard-*.png)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, axe_violations, screenshot

GNV = "coordinator.gnv@example.org"


def cell(page, subject: str, code: str):  # type: ignore[no-untyped-def]
    return page.locator(f"tr[data-subject='{subject}'] td[data-code='{code}']")


def check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    assert axe_violations(page) == [], name
    screenshot(page, f"dashboard-{name}")


def test_sign_in_then_the_grid_follows_the_clock(live_server, new_page, signed_in, story, clock):
    login = new_page(viewport=DESKTOP)
    login.goto(f"{live_server.url}/")
    expect(login).to_have_url(re.compile(r"/dashboard/login\.html\?next="))
    login.get_by_label("Email").fill(GNV)
    login.get_by_label("Password").fill("not the password")
    login.get_by_role("button", name="Sign in").click()
    expect(login.get_by_role("alert")).to_have_text("Email or password is wrong.")
    check(login, "login")

    page = signed_in(GNV)
    expect(page.locator("h1")).to_have_text("Study overview")
    expect(page.locator(".cards li[data-bucket='missed'] .n")).to_have_text("2")
    check(page, "overview")

    page.get_by_role("link", name="Participants").click()
    expect(cell(page, "GNV-004", "INF1_D7")).to_have_text("○ open")
    expect(cell(page, "GNV-001", "INF1_D30")).to_have_text("✓ late")
    expect(cell(page, "GNV-001", "INF4_D7")).to_have_text("… expected")
    expect(page.locator("tbody tr")).to_have_count(4)
    check(page, "grid")

    clock.advance(timedelta(days=2))
    page.reload()
    expect(cell(page, "GNV-004", "INF1_D7")).to_have_text("✗ missed")
    expect(cell(page, "GNV-004", "INF1_D7")).to_have_attribute("data-status", "missed")


def test_recording_an_infusion_makes_its_assessments_appear(signed_in, story):
    page = signed_in(GNV)
    page.goto(page.url.split("/dashboard/")[0]
              + f"/dashboard/participant.html?id={story.ids['GNV-003']}")
    expect(page.locator("h1")).to_have_text("Participant GNV-003")
    timeline = page.locator("#timeline")
    expect(timeline.locator("li[data-kind='assessment']")).to_have_count(1)  # BASELINE only

    page.get_by_role("button", name="Record or correct an infusion").click()
    dialog = page.get_by_role("dialog", name="Record an infusion")
    dialog.get_by_label("What happened").select_option("given")
    dialog.get_by_label("Given at (local time)").fill("2026-03-01T09:00")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-participant-infusion", full_page=False)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Infusion recorded")
    expect(timeline.locator("#a-INF1_D7")).to_contain_text("upcoming")
    expect(timeline.locator("#a-INF1_D30")).to_contain_text("upcoming")
    expect(page.locator("#infusions tr[data-number='1']")).to_contain_text("given")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Participants").click()
    expect(cell(page, "GNV-003", "INF1_D7")).to_have_text("· upcoming")
    expect(cell(page, "GNV-003", "BASELINE")).to_have_text("◐ started")


def test_a_gainesville_coordinator_cannot_reach_a_miami_participant(signed_in, story):
    page = signed_in(GNV)
    page.get_by_role("link", name="Participants").click()
    expect(page.locator("tbody tr").first).to_be_visible()
    assert not page.locator("tr[data-subject^='MIA']").count()
    assert not page.locator("#site-filter").count()

    page.get_by_role("link", name="Needs attention").click()
    expect(page.locator("section[data-kind='closing_soon'] tbody tr")).to_have_count(1)
    expect(page.locator("section[data-kind='closing_soon']")).to_contain_text("GNV-004")
    assert not page.locator("tr[data-subject^='MIA']").count()
    check(page, "attention")

    miami = story.ids["MIA-001"]
    page.goto(page.url.replace("attention.html", f"participant.html?id={miami}"))
    expect(page.get_by_role("alert")).to_have_text("Participant not found")
    assert page.locator("#timeline").count() == 0
    statuses = page.evaluate("""async (id) => Promise.all(
        ['', '/timeline', '/trends', '/responses', '/schedule'].map(
            (s) => fetch(`/api/v1/participants/${id}${s}`).then((r) => r.status)))""", miami)
    assert statuses == [404, 404, 404, 404, 404]
    csv = page.evaluate("() => fetch('/api/v1/dashboard/grid.csv?site=MIA').then((r) => r.status)")
    assert csv == 404


def test_an_approved_change_changes_the_score_and_keeps_the_old_version(signed_in, story):
    coordinator = signed_in(GNV)
    base = coordinator.url.split("/dashboard/")[0]
    coordinator.goto(f"{base}/dashboard/participant.html?id={story.ids['GNV-004']}")
    pain = coordinator.locator("#answers details", has_text="Pain intensity").first
    pain.locator(":scope > summary").click()
    old = int(pain.locator("tr[data-item='pain_nrs'] td").nth(1).inner_text())
    new = (old + 3) % 11
    pain.get_by_role("button", name=re.compile("Request a change")).click()
    dialog = coordinator.get_by_role("dialog", name="Request a change to an answer")
    dialog.get_by_label("New answer").fill(str(new))
    dialog.get_by_label("Why the answer should change").fill("She read the scale backwards")
    dialog.get_by_label("Source").fill("Phone call 1 March, in source notes")
    dialog.get_by_role("button", name="Send request").click()
    expect(coordinator.locator("#changes tr[data-status='pending']")).to_have_count(1)

    investigator = signed_in("investigator@example.org")
    investigator.get_by_role("link", name="Data changes").click()
    row = investigator.locator("#changes tbody tr").first
    expect(row).to_contain_text("GNV-004")
    expect(row).to_contain_text(f"{old}")
    check(investigator, "changes")
    row.get_by_role("button", name="Approve…").click()
    investigator.get_by_role("dialog", name="Approve the change").get_by_role(
        "button", name="Approve").click()
    expect(investigator.get_by_role("status")).to_contain_text("Change approved")

    investigator.goto(f"{base}/dashboard/participant.html?id={story.ids['GNV-004']}")
    chart = investigator.locator("figure[data-series='pain_nrs.pain_nrs']")
    values = chart.locator("td[data-code='BASELINE']")
    expect(values).to_have_text(f"{new} corrected v2")
    block = investigator.locator("#answers details", has_text="Pain intensity").first
    block.locator(":scope > summary").click()
    expect(block.locator("tr[data-item='pain_nrs']")).to_contain_text(str(new))
    earlier = block.locator("details[data-version='1']")
    expect(earlier).to_contain_text("Version 1, answered by the participant")
    earlier.locator(":scope > summary").click()
    expect(earlier.locator("li")).to_have_text(re.compile(f": {old}$"))
    expect(investigator.locator("#changes tr[data-status='approved']")).to_have_count(1)
    check(investigator, "participant")


def test_message_log_and_administration_pages(signed_in):
    page = signed_in(GNV)
    page.get_by_role("link", name="Messages").click()
    expect(page.locator("#messages tbody tr").first).to_be_visible()
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#messages tbody tr")).to_have_count(1)
    expect(page.locator("#messages")).to_contain_text("30003")
    check(page, "messages")

    admin = signed_in("admin@example.org")
    expect(admin.locator("h1")).to_have_text("Users and sites")
    assert admin.get_by_role("link", name="Participants").count() == 0
    admin.get_by_role("button", name="Add a site").click()
    dialog = admin.get_by_role("dialog", name="Add a site")
    dialog.get_by_label("Code").fill("TPA")
    dialog.get_by_label("Name").fill("Tampa")
    dialog.get_by_role("button", name="Add site").click()
    expect(admin.locator("#sites")).to_contain_text("Tampa")
    check(admin, "admin")
