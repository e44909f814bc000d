"""The coordinator's dashboard in Debian's chromium: sign-in, the grid over time, recording
an infusion, site scope, a data change from request to approval; axe-core on every page and
a screenshot of each (docs/screenshots/dashboard-*.png)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from pro_server.jobs import run_all_once
from tests.browser.conftest import DESKTOP, SCREENSHOTS, axe_violations, screenshot
from tests.changes.test_change_requests import ask, current

GNV = "coordinator.gnv@example.org"


def cell(page, subject: str, code: str):  # type: ignore[no-untyped-def]
    return page.locator(f"tr[data-subject='{subject}'] td[data-code='{code}']")


def downloaded(page) -> str:  # type: ignore[no-untyped-def]
    """The page's 'Download CSV', as the browser saved it."""
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    return Path(info.value.path()).read_text(encoding="utf-8-sig")


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
    assert downloaded(page).splitlines()[1].startswith("GNV-001,GNV,enrolled,done on time ")

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
    expect(page.locator("section[data-kind='missed'] tbody tr")).to_have_count(2)
    check(page, "attention")
    page.locator("section[data-kind='closing_soon']").get_by_role(
        "button", name="Send reminder now").click()
    expect(page.get_by_role("status")).to_contain_text(  # GNV-004's number is flagged invalid
        "GNV-004: no text will be sent (")
    expect(page.get_by_role("status")).to_contain_text("only 1 web notice queued.")
    assert downloaded(page).splitlines()[1].startswith(
        "Survey window closing within 48 hours,GNV-004,GNV,INF1_D7,")

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
    dialog = investigator.get_by_role("dialog", name="Approve the change")
    expect(dialog).to_contain_text("Electronic signature: “I approve this data change”")
    dialog.get_by_label("Your password").fill("not-my-password")
    dialog.get_by_role("button", name="Sign and approve").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Signature refused")
    dialog.get_by_label("Your password").fill(story.passwords["investigator@example.org"])
    dialog.get_by_role("button", name="Sign and approve").click()
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
    expect(earlier.locator("li")).not_to_have_text(re.compile(r"\.: "))  # "imaginable).: 3"
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


def fill(dialog, values: dict[str, str], button: str = "Save") -> None:  # type: ignore[no-untyped-def]
    for label, value in values.items():
        dialog.get_by_label(label).fill(value)
    dialog.get_by_role("button", name=button).click()


def participant_page(page, story, subject: str):  # type: ignore[no-untyped-def]
    page.goto(page.url.split("/dashboard/")[0]
              + f"/dashboard/participant.html?id={story.ids[subject]}")
    expect(page.locator("h1")).to_have_text(f"Participant {subject}")
    return page


def test_the_participant_page_says_what_is_open_and_which_text_failed(signed_in, story):
    page = participant_page(signed_in(GNV), story, "GNV-002")
    expect(page.locator(".facts")).to_contain_text("○ INF1_D30 open, closes Mar 5, 2026")
    failed = page.locator("#timeline li[data-kind='message']", has=page.locator(".st-missed"))
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("failed")
    expect(failed).to_contain_text(
        "Failed Feb 28, 2026, 9:00 AM · phone unreachable or off (30003)")
    assert axe_violations(page) == []


def test_score_trends_mark_each_infusion(signed_in, story):
    page = participant_page(signed_in(GNV), story, "GNV-001")
    pain = page.locator("figure[data-series='pain_nrs.pain_nrs']")
    expect(pain.locator("circle.pt")).to_have_count(5)  # BASELINE and the four follow-ups answered
    expect(pain.locator("path.line")).to_have_count(1)
    expect(pain.locator("text.inf-label")).to_have_text(["I1", "I2", "I3"])
    for series in ("haq_di.haq_di", "promis_gh.gph_t", "rand36.physical_functioning"):
        expect(page.locator(f"figure[data-series='{series}'] text.inf-label")).to_have_count(3)
    assert axe_violations(page) == []
    trends = page.locator("#trends")
    trends.scroll_into_view_if_needed()
    trends.screenshot(path=str(SCREENSHOTS / "dashboard-participant-trends.png"))


def test_every_action_on_the_participant_page(live_server, signed_in, story, clock, app):
    page = signed_in(GNV)
    page.get_by_role("link", name="Participants").click()
    page.get_by_role("button", name="Enrol participant").click()
    enrol = page.get_by_role("dialog", name="Enrol a participant")
    enrol.get_by_label("Subject key").fill("GNV-007")
    # No VAPID keys on this server: push is not offered, only SMS.
    expect(enrol.get_by_label("Reminders by").locator("option")).to_have_text(["SMS only"])
    expect(enrol).to_contain_text("Push notifications are not set up on this server")
    enrol.get_by_label("Mobile phone").fill("+13525550177")
    enrol.get_by_label("SMS consent").check()
    enrol.get_by_label("Where consent was recorded").fill("ICF v3 signed at screening")
    enrol.get_by_role("button", name="Enrol").click()
    expect(page.locator("h1")).to_have_text("Participant GNV-007")
    expect(page.locator(".facts")).to_contain_text("consented")

    page = participant_page(page, story, "GNV-002")
    notice = page.get_by_role("status")
    page.get_by_role("button", name="Edit contact, language, time zone").click()
    edit = page.get_by_role("dialog", name="Contact and preferences of GNV-002")
    edit.get_by_label("Language").select_option("es")
    edit.get_by_label("Time zone").fill("America/Chicago")
    edit.get_by_label("Reason for the change").fill("Moved to Pensacola; prefers Spanish")
    edit.get_by_role("button", name="Save").click()
    expect(notice).to_contain_text("Participant updated.")
    expect(page.locator(".facts")).to_contain_text("Spanish")
    expect(page.locator(".facts")).to_contain_text("America/Chicago")

    first = page.locator("#infusions tr[data-number='1']")
    given_on = first.locator("td").nth(2).inner_text()[:10]
    first.get_by_role("button", name="Correct").click()
    fix = page.get_by_role("dialog", name="Correct infusion 1")
    fix.get_by_label("Given at (local time)").fill(f"{given_on}T11:00")
    fix.get_by_role("button", name="Save").click()
    expect(fix.get_by_role("alert")).to_contain_text("reason")  # a correction needs one
    fill(fix, {"Reason": "Infusion log says 11:00, not 09:30"})
    expect(notice).to_contain_text("Infusion corrected")  # a correction says so
    expect(first).to_contain_text(f"{given_on} 11:00")
    expect(first).to_contain_text("Infusion log says")

    page.get_by_role("button", name="Schedule a visit").click()
    visit = page.get_by_role("dialog", name="Schedule a virtual visit with GNV-002")
    fill(visit, {"Starts at (local time)": "2026-03-05T14:00"})
    expect(notice).to_contain_text("Visit scheduled.")
    row = page.locator("#visits tbody tr").first
    expect(row).to_contain_text("Mar 5, 2026, 2:00 PM")
    row.get_by_role("button", name="Reschedule").click()
    move = page.get_by_role("dialog", name="Reschedule the visit")
    fill(move, {"New start (local time)": "2026-03-06T15:30",
                "Reason": "Participant asked for Friday"})
    expect(notice).to_contain_text("Visit rescheduled.")
    expect(row).to_contain_text("Mar 6, 2026, 3:30 PM")
    row.get_by_role("button", name="Cancel").click()
    cancel = page.get_by_role("dialog", name="Cancel the visit")
    fill(cancel, {"Reason": "Seen at the site instead"}, "Cancel the visit")
    expect(notice).to_contain_text("Visit cancelled.")
    expect(row).to_contain_text("cancelled")

    page.get_by_role("button", name="Issue a new link").click()
    page.get_by_role("dialog", name="New link for GNV-002").get_by_role(
        "button", name="Issue link").click()
    shown = page.get_by_role("dialog", name="The participant's new link")
    expect(shown.get_by_label("Link")).to_have_value(re.compile(r"^http://.+/p#.{16,}"))
    shown.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Revoke links").click()
    revoke = page.get_by_role("dialog", name="End every link of GNV-002")
    fill(revoke, {"Reason": "Phone lost"}, "End links")
    expect(notice).to_contain_text("ended.")

    clock.advance(timedelta(hours=12, minutes=30))  # 21:30 in Chicago: quiet hours
    page.get_by_role("button", name="Send reminder now").click()
    page.get_by_role("dialog", name="Send GNV-002 a reminder now").get_by_role(
        "button", name="Send reminder").click()
    expect(notice).to_have_text("GNV-002: reminder queued (2 messages); quiet hours still apply.")
    run_all_once(app)
    page.reload()
    reminder = page.locator("#timeline li[data-kind='message']", has_text="SMS survey reminder")
    expect(reminder.filter(has_text="Mar 1, 2026, 9:30 PM")).to_contain_text(
        "pendingwaiting for the end of quiet hours")  # status badge, then why

    page = participant_page(page, story, "GNV-003")  # opted out of texts
    page.get_by_role("button", name="Send reminder now").click()
    page.get_by_role("dialog", name="Send GNV-003 a reminder now").get_by_role(
        "button", name="Send reminder").click()
    expect(page.get_by_role("status")).to_contain_text(
        "GNV-003: no text will be sent (participant opted out of SMS (STOP) at 2026-02-28"
        " 14:00 UTC); only 1 web notice queued.")

    page = participant_page(page, story, "GNV-002")
    page.get_by_role("button", name="Withdraw…").click()
    out = page.get_by_role("dialog", name="Withdraw GNV-002")
    fill(out, {"Reason for withdrawal": "Withdrew consent by phone"}, "Withdraw")
    expect(page.get_by_role("status")).to_contain_text("Participant withdrawn.")
    expect(page.locator(".facts")).to_contain_text("withdrawn (Withdrew consent by phone)")
    expect(page.get_by_role("group", name="Actions")).to_have_count(0)


def test_a_monitor_reads_every_site_and_only_an_investigator_approves(signed_in, story,
                                                                     ctx_factory):
    asked = ask(story.client(GNV), current(ctx_factory, story))
    assert asked.status_code == 201, asked.json
    monitor = signed_in("monitor@example.org")
    monitor.get_by_role("link", name="Participants").click()
    expect(monitor.locator("tr[data-subject='MIA-001']")).to_have_count(1)
    expect(monitor.locator("tr[data-subject='GNV-001']")).to_have_count(1)
    expect(monitor.get_by_role("button", name="Enrol participant")).to_have_count(0)
    participant_page(monitor, story, "GNV-004")
    expect(monitor.get_by_text("Read-only access.")).to_be_visible()
    expect(monitor.get_by_role("group", name="Actions")).to_have_count(0)
    expect(monitor.locator("#infusions").get_by_role("button")).to_have_count(0)
    expect(monitor.locator("#changes tr[data-status='pending']")).to_have_count(1)
    expect(monitor.locator("main").get_by_role("button")).to_have_count(0)
    monitor.get_by_role("link", name="Needs attention").click()
    expect(monitor.locator("section[data-kind='missed']")).to_contain_text("MIA-002")
    expect(monitor.locator("main").get_by_role("button")).to_have_count(0)

    for email in ("monitor@example.org", GNV):
        page = signed_in(email)
        page.get_by_role("link", name="Data changes").click()
        expect(page.locator("#changes tbody tr")).to_have_count(1)
        expect(page.get_by_role("button", name="Approve…")).to_have_count(0)
    investigator = signed_in("investigator@example.org")
    investigator.get_by_role("link", name="Data changes").click()
    expect(investigator.get_by_role("button", name="Approve…")).to_have_count(1)
