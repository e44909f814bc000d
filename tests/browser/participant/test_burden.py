"""How much a survey asks of a participant on a phone: screens and taps per survey, printed.

One phone browser answers the baseline, then (a week after the first infusion) the Day 7
survey, along the shortest path: one tap per answer (none on a check-all-that-apply
question), Next, and Send. Taps are the browser's own trusted pointer presses, counted in
the page. On a 390 x 844 phone at 100% zoom, Next is on the first screenful of every
single-question screen, in English and in Spanish (whose longer checklists once pushed Next
below it), and Send on the review's. Run with `-s` to see the counts (README.md
"Participant burden" quotes them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from pro_server.schedule.infusions import record_infusion
from tests.browser.participant.conftest import (
    NEXT,
    assert_on_first_screenful,
    check_page,
    walk_to_review,
)
from tests.participant_web.support import participant

COUNT_TAPS = """() => {
    window.__taps = 0;
    addEventListener("pointerdown", (event) => { if (event.isTrusted) window.__taps += 1; },
                     true);
}"""


NEXT_ON_FIRST_SCREENFUL = """() => {
    window.scrollTo(0, 0);
    const next = document.querySelector("form.screen .nav button[type=submit]");
    const box = next.getBoundingClientRect();
    const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return box.top >= 0 && box.bottom <= innerHeight && next.contains(seen);
}"""

FOCUSED = """() => {
    const el = document.activeElement;
    const bar = document.querySelector("form.screen .nav").getBoundingClientRect();
    const box = (el.closest(".option") || el).getBoundingClientRect();
    const RING = 6;  // the focus outline around an option: 4 px, 2 px away (styles.css)
    return {name: el.closest("label, button").textContent.trim(),
            clear: el.closest(".nav") !== null || box.bottom + RING <= bar.top,
            bottom: box.bottom + RING, bar: bar.top};
}"""

SEND = {"en": "Send my answers", "es": "Enviar mis respuestas"}
THANKS = {"en": "Thank you! Your answers were sent.",
          "es": "¡Gracias! Sus respuestas fueron enviadas."}


def focus_walk(page: Page) -> list[str]:
    """Tab from the question to Next: what takes focus, in order; none of it behind the bar
    that holds Next at the bottom of the window (WCAG 2.2 2.4.11)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("main h1").focus()
    names = []
    while not names or names[-1] != NEXT["es"]:
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["clear"], focused
        names.append(focused["name"])
        assert len(names) < 20, names
    return names


def answer_survey(page: Page, start: str, lang: str = "en") -> dict[str, object]:
    """Start the survey from home, answer every screen, send; what it took. On a checklist
    in Spanish (the longest screens), keyboard focus is walked too, and the first one is
    checked with axe and photographed as the phone shows it."""
    page.evaluate("window.__taps = 0")
    page.get_by_role("link", name=start).click()
    screens, scrolled, focus_orders = 1, [], []

    def on_screen(page: Page, kind: str) -> None:
        nonlocal screens
        screens += 1
        if kind != "grid" and not page.evaluate(NEXT_ON_FIRST_SCREENFUL):
            scrolled.append(page.locator(".progress-text").inner_text())
        if kind == "multi" and lang == "es":
            if not focus_orders:  # the first aids-and-devices checklist, as a phone shows it
                check_page(page, "es-item-aids-390x844", full_page=False)
            focus_orders.append(focus_walk(page))

    walk_to_review(page, on_screen=on_screen, lang=lang)
    review_height = page.evaluate("document.documentElement.scrollHeight")
    send = page.get_by_role("button", name=SEND[lang])
    assert_on_first_screenful(page, send)
    send.click()
    expect(page.locator("main h1")).to_have_text(THANKS[lang])
    return {"screens": screens, "taps": page.evaluate("window.__taps"),
            "review_height": review_height, "next_below_the_fold": scrolled,
            "focus_orders": focus_orders}


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

    spanish = open_link("MIA-003")
    spanish.evaluate(COUNT_TAPS)
    baseline_es = answer_survey(spanish, "Empezar la encuesta", "es")

    for name, counts in (("baseline", baseline), ("Day 7", day7),
                         ("baseline in Spanish", baseline_es)):
        print(f"\n{name}: {counts['screens']} screens, {counts['taps']} taps; review page "
              f"{counts['review_height']} px tall; single-question screens with Next below "
              f"the fold: {counts['next_below_the_fold'] or 'none'}")
    assert baseline["screens"] > day7["screens"] > 1  # the baseline adds the RAND-36
    assert (baseline_es["screens"], baseline_es["taps"]) == (baseline["screens"],
                                                             baseline["taps"])
    assert baseline["next_below_the_fold"] == day7["next_below_the_fold"] == []
    assert baseline_es["next_below_the_fold"] == []
    # The four check-all-that-apply screens (aids and devices, help from another person,
    # twice each): every box, then Back and Next, in the page's order.
    assert len(baseline_es["focus_orders"]) == 4
    for order in baseline_es["focus_orders"]:
        assert order[-2:] == ["Atrás", "Siguiente"], order
        assert len(order) > 5, order
