"""Issue 16 item 3 in the browser: the message log shows what happened, newest first, error
codes in plain language, filters by participant and date, and downloads as CSV."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot

GNV = "coordinator.gnv@example.org"


def test_the_message_log_reads_like_a_log(signed_in):
    page = signed_in(GNV)
    page.get_by_role("link", name="Messages").click()
    rows = page.locator("#messages tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("#messages tbody tr[data-status='pending']")).to_have_count(0)
    expect(page.locator("#messages tr[data-status='failed']")).to_contain_text(
        "phone unreachable or off (30003)")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-message-log")

    page.get_by_label("Show").select_option("true")
    expect(rows.first).to_have_attribute("data-status", "pending")
    page.get_by_label("Show").select_option("")
    page.get_by_label("Participant").fill("GNV-002")
    page.get_by_label("Participant").press("Enter")
    page.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(1)
    page.get_by_label("From").fill("2030-01-01")
    page.get_by_label("From").dispatch_event("change")
    expect(page.get_by_text("No messages match.")).to_be_visible()
    page.get_by_label("From").fill("")
    page.get_by_label("From").dispatch_event("change")
    expect(rows).to_have_count(1)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "GNV-002" in lines[1]
    assert "phone unreachable or off" in lines[1]
    assert axe_violations(page) == []
    screenshot(page, "dashboard-message-log-filtered")
