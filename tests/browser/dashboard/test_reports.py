"""Issue 16 item 5 in the browser: study-wide reports drawn as SVG charts, each with its table
and a CSV behind it, scoped to the caller's sites, with no treatment arm anywhere."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot

GNV = "coordinator.gnv@example.org"
MONITOR = "monitor@example.org"


def test_a_monitor_reads_completion_by_week_and_score_distributions(signed_in, live_server):
    page = signed_in(MONITOR)
    page.get_by_role("link", name="Reports").click()
    main = page.locator("figure.wide[data-site='all']")
    expect(main.locator("svg rect.sw-completed").first).to_be_attached()
    # Week 9: GNV-001's INF3_D7 answered, MIA-002's INF1_D7 missed.
    expect(main.locator("tr[data-week='2026-W09'] td")).to_have_text(
        ["Feb 23, 2026", "2", "1", "1", "50%"])
    expect(page.locator("figure.chart[data-site='MIA']")).to_have_count(1)
    api = page.request.get(f"{live_server.url}/api/v1/dashboard/reports/scores").json()
    pain = next(s for s in api["series"] if s["key"] == "pain_nrs")["assessments"]
    row = page.locator("figure[data-series='pain_nrs.pain_nrs'] tr[data-code='BASELINE'] td")
    expect(row.nth(0)).to_have_text(str(pain[0]["n"]))
    expect(row.nth(1)).to_have_text(f"{pain[0]['median']:g}")
    expect(page.locator("figure[data-series='pain_nrs.pain_nrs'] g.box")).to_have_count(len(pain))
    screenshot(page, "dashboard-reports")
    assert axe_violations(page) == []

    page.get_by_label("Assessment", exact=True).select_option("INF1_D7")
    expect(main.locator("tbody tr")).to_have_count(4)  # the weeks an INF1_D7 window closed
    expect(main.locator("tr[data-week='2026-W06'] td").last).to_have_text("0%")
    assert "assessment=INF1_D7" in page.url
    with page.expect_download() as info:
        page.locator("#completion").get_by_role("link", name="Download CSV").click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "week,week_starts,site,assessment,due,completed,missed,rate_percent"
    assert "2026-W09,2026-02-23,MIA,INF1_D7,1,0,1,0.0" in lines
    assert axe_violations(page) == []


def test_a_coordinator_sees_their_own_site_only(signed_in):
    page = signed_in(GNV)
    page.get_by_role("link", name="Reports").click()
    main = page.locator("figure.wide[data-site='all']")
    expect(main.locator("figcaption")).to_contain_text("GNV")
    expect(main.locator("tr[data-week='2026-W09'] td")).to_have_text(
        ["Feb 23, 2026", "1", "1", "0", "100%"])
    expect(page.locator("figure.chart[data-site='MIA']")).to_have_count(0)
    expect(page.locator("#site-filter")).to_have_count(0)
    screenshot(page, "dashboard-reports-coordinator", full_page=False)
    with page.expect_download() as info:
        page.locator("#scores").get_by_role("link", name="Download CSV").click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("instrument,score,label,assessment,n,")
    assert axe_violations(page) == []
