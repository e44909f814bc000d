"""The participant grid in chromium, a page at a time: the first page, "Load more", the
search sent to the server, the full CSV; axe-core and a screenshot
(docs/screenshots/dashboard-grid-paging.png)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot


def test_the_grid_loads_a_page_at_a_time_and_searches_on_the_server(signed_in):
    page = signed_in("monitor@example.org")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/dashboard/grid?" in r.url else None)
    page.goto(page.url.split("/dashboard/")[0] + "/dashboard/grid.html?status=all&per=4")
    rows = page.locator("#grid tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("#grid-count")).to_contain_text("4 of 9 participants shown. As of ")
    more = page.get_by_role("button", name="Load 4 more")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-grid-paging")
    more.click()
    expect(rows).to_have_count(8)
    expect(rows.nth(4)).to_have_attribute("data-subject", "GNV-005")
    page.get_by_role("button", name="Load 1 more").click()
    expect(rows).to_have_count(9)
    expect(page.locator("#grid-count")).to_contain_text("9 participants. As of ")
    expect(page.locator("#load-more")).to_be_hidden()

    page.get_by_label("Find subject").fill("mia")
    expect(rows).to_have_count(3)
    expect(page.locator("#grid-count")).to_contain_text("3 participants.")
    assert "q=mia" in requests[-1]  # filtered by the server, not in the page
    assert all("limit=4" in url for url in requests)
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["MIA-001", "MIA-002", "MIA-003"]
