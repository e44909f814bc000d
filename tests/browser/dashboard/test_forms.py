"""The dashboard's forms agree with the server (issue 16 item 6), on a 1366 x 768 laptop:
enrolment takes a US number as people write it and a searchable time zone, and fits the
screen; "Send reminder now" says why it is off; the overview's
headline counts whom its bars count; answers come in the order they were asked."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot

GNV = "coordinator.gnv@example.org"
LAPTOP = {"width": 1366, "height": 768}


def check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    assert axe_violations(page) == [], name
    screenshot(page, f"dashboard-{name}", full_page=False)


def test_forms_agree_with_the_server(signed_in, story):
    page = signed_in(GNV)
    page.set_viewport_size(LAPTOP)
    base = page.url.split("/dashboard/")[0]
    expect(page.locator("#results p.lead")).to_contain_text("4 participants with surveys at GNV.")
    expect(page.locator("#left-out")).to_have_text(
        "Not in the counts (no survey counted): GNV-005 (screening), GNV-006 (withdrawn).")
    check(page, "overview-left-out")

    page.get_by_role("link", name="Participants").click()
    page.get_by_role("button", name="Enrol participant").click()
    dialog = page.get_by_role("dialog", name="Enrol a participant")
    zone = dialog.get_by_label("Time zone")
    expect(zone).to_have_value("America/New_York")  # the site's
    options = page.locator(f"datalist#{zone.get_attribute('list')} option")
    expect(options.first).to_be_attached()
    assert options.count() > 300
    expect(options.and_(page.locator("[value='America/Chicago']"))).to_have_count(1)
    enrol = dialog.get_by_role("button", name="Enrol")
    box = enrol.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= LAPTOP["height"], box  # no scrolling to reach it
    assert page.evaluate("window.scrollY") == 0
    assert dialog.evaluate("d => d.scrollHeight <= d.clientHeight")
    dialog.get_by_label("Subject key").fill("GNV-101")
    dialog.get_by_label("Mobile phone").fill("(352) 555-0177")
    dialog.get_by_label("SMS consent").check()
    dialog.get_by_label("Where consent was recorded").fill("ICF v3 signed at screening visit")
    check(page, "enrol")
    enrol.click()
    expect(page.locator("h1")).to_have_text("Participant GNV-101")
    expect(page.locator(".facts")).to_contain_text("+13525550177")

    page.goto(f"{base}/dashboard/participant.html?id={story.ids['GNV-001']}")
    expect(page.locator("h1")).to_have_text("Participant GNV-001")
    remind = page.get_by_role("button", name="Send reminder now")
    expect(remind).to_be_disabled()
    expect(remind).to_have_accessible_description(
        "No survey is open, so there is nothing to remind about.")
    check(page, "participant-remind-off")  # "Infusion corrected": test_dashboard.py

    page.goto(f"{base}/dashboard/participant.html?id={story.ids['GNV-004']}#answers")
    baseline = page.locator("#answers details[data-response] > summary")
    expect(baseline.first).to_contain_text("Pain intensity")
    assert [text.split(" (")[0] for text in baseline.all_inner_texts()[:5]] == [
        "Pain intensity", "Patient global assessment of disease activity",
        "Health Assessment Questionnaire Disability Index", "PROMIS Scale v1.2 - Global Health",
        "RAND 36-Item Health Survey 1.0"]
