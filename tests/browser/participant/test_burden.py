"""How much a survey asks of a participant on a phone: screens and taps per survey, printed.

One phone browser answers the baseline, then (a week after the first infusion) the Day 7
survey, along the shortest path: one tap per answer (none on a check-all-that-apply
question), Next, and Send. Taps are the browser's own trusted pointer presses, counted in
the page. On a 390 x 844 phone at 100% zoom, Next is on the first screenful of every
single-question screen, and Send on the review's. Run with `-s` to see the counts
(README.md "Participant burden" quotes them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from pro_server.schedule.infusions import record_infusion
from tests.browser.participant.conftest import (
    answer_screen,
    assert_on_first_screenful,
    next_screen,
    screen_kind,
)
from tests.participant_web.support import participant

COUNT_TAPS = """() => {
    window.__taps = 0;
    addEventListener("pointerdown", (event) => { if (event.isTrusted) window.__taps += 1; },
                     true);
}"""


def next_needs_scrolling(page: Page) -> bool:
    """Whether Next lies below the first screenful of the page (scrolled to the top)."""
    return page.evaluate("""() => {
        const next = [...document.querySelectorAll("form.screen .nav button[type=submit]")][0];
        return next.getBoundingClientRect().bottom + window.scrollY > window.innerHeight;
    }""")


def answer_survey(page: Page, start: str) -> dict[str, object]:
    """Start the survey from home, answer every screen, send; what it took."""
    page.evaluate("window.__taps = 0")
    page.get_by_role("link", name=start).click()
    screens, scrolled = 0, []
    while True:
        expect(page.locator("form.screen, .screen.review").first).to_be_visible()
        screens += 1
        if page.locator(".screen.review").count():
            break
        if screen_kind(page) != "grid" and next_needs_scrolling(page):
            scrolled.append(page.locator(".progress-text").inner_text())
        answer_screen(page)
        next_screen(page)
    review_height = page.evaluate("document.documentElement.scrollHeight")
    send = page.get_by_role("button", name="Send my answers")
    assert_on_first_screenful(page, send)
    send.click()
    expect(page.locator("main h1")).to_have_text("Thank you! Your answers were sent.")
    return {"screens": screens, "taps": page.evaluate("window.__taps"),
            "review_height": review_height, "next_below_the_fold": scrolled}


def test_screens_and_taps_per_survey(open_link, ctx_factory, clock, live_server):
    page = open_link("GNV-004")
    page.evaluate(COUNT_TAPS)
    baseline = answer_survey(page, "Start the survey")

    ctx = ctx_factory()
    record_infusion(ctx, participant(ctx, "GNV-004"), 1, status="given",
                    given_at_local=datetime(2026, 3, 1, 9, 30))
    ctx.session.commit()
    clock.advance(timedelta(days=6))  # Saturday, March 7: the Day 7 window is open
    page.goto(f"{live_server.url}/p")
    page.evaluate(COUNT_TAPS)
    day7 = answer_survey(page, "Start the survey")

    for name, counts in (("baseline", baseline), ("Day 7", day7)):
        print(f"\n{name}: {counts['screens']} screens, {counts['taps']} taps; review page "
              f"{counts['review_height']} px tall; single-question screens with Next below "
              f"the fold: {counts['next_below_the_fold'] or 'none'}")
    assert baseline["screens"] > day7["screens"] > 1  # the baseline adds the RAND-36
    assert baseline["next_below_the_fold"] == day7["next_below_the_fold"] == []
