"""Issue 16 item 1 in the browser: every missed survey is on the attention list, however old;
the coordinator records why, and the reason shows on the grid and on the timeline."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot

GNV = "coordinator.gnv@example.org"


def test_record_why_a_survey_was_missed_and_see_it_on_grid_and_timeline(signed_in, story):
    page = signed_in(GNV)
    page.get_by_role("link", name="Needs attention").click()
    missed = page.locator("section[data-kind='missed']")
    expect(missed.locator("h2")).to_have_text("Survey missed, no reason recorded(2)")
    expect(missed.locator("tbody tr")).to_have_count(2)
    expect(missed.locator("tbody tr").nth(0)).to_contain_text("GNV-001")  # oldest first
    expect(missed.locator("tr[data-subject='GNV-002']")).to_contain_text("INF1_D7: not answered")

    row = missed.locator("tr[data-subject='GNV-002']")
    row.get_by_role("button", name="Record reason…").click()
    dialog = page.get_by_role("dialog", name="Why GNV-002 missed INF1_D7")
    dialog.get_by_label("Reason", exact=True).select_option("other")
    dialog.get_by_role("button", name="Record reason").click()
    expect(dialog.get_by_text("Say what the reason was")).to_be_visible()
    dialog.get_by_label("Other reason").fill("Phone stolen; new number pending")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-missed-reason", full_page=False)
    dialog.get_by_role("button", name="Record reason").click()
    expect(page.get_by_role("status")).to_contain_text("GNV-002 INF1_D7: reason recorded.")
    expect(missed.locator("tbody tr")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "dashboard-attention-missed")

    page.get_by_role("link", name="Participants").click()
    cell = page.locator("tr[data-subject='GNV-002'] td[data-code='INF1_D7']")
    expect(cell).to_contain_text("✗ missed")
    expect(cell.locator(".why")).to_have_text("Other: Phone stolen; new number pending")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-grid-missed-reason")

    cell.get_by_role("link").click()
    survey = page.locator("#timeline li[data-kind='assessment']", has_text="Survey INF1_D7")
    expect(survey).to_contain_text("missed: Other: Phone stolen; new number pending")


def test_the_reason_dialog_forgets_an_error_once_it_no_longer_applies(signed_in, story):
    page = signed_in(GNV)
    page.get_by_role("link", name="Needs attention").click()
    row = page.locator("section[data-kind='missed'] tr[data-subject='GNV-002']")
    row.get_by_role("button", name="Record reason…").click()
    dialog = page.get_by_role("dialog", name="Why GNV-002 missed INF1_D7")
    dialog.get_by_label("Reason", exact=True).select_option("other")
    dialog.get_by_role("button", name="Record reason").click()
    error = dialog.get_by_role("alert")
    expect(error).to_contain_text("Say what the reason was")
    dialog.get_by_label("Reason", exact=True).select_option("not_reached")
    expect(error).to_have_text("")  # about "other", which is no longer chosen
    dialog.get_by_label("Reason", exact=True).select_option("other")
    dialog.get_by_role("button", name="Record reason").click()
    expect(error).to_contain_text("Say what the reason was")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    row.get_by_role("button", name="Record reason…").click()
    expect(dialog.get_by_label("Reason", exact=True)).to_have_value("not_reached")
    expect(dialog.get_by_role("alert")).to_have_text("")
    assert axe_violations(page) == []
