"""The participant's other pages: Spanish, state pages, links that no longer work, another
participant's survey, the second factor, and 200% zoom."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise

from playwright.sync_api import Page, expect

from pro_server.participant_web import second_factor
from pro_server.participants.links import revoke_links
from pro_server.schedule.assessments import cancel
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.visits import schedule_visit
from tests.browser.participant.conftest import (
    answer_screen,
    check_page,
    english_left,
    english_texts,
    page_number,
    walk_to_review,
)
from tests.participant_web.support import assessment, participant, token_for

TARGETS = "button, .button, .option, .nrs-number, input[type=range]"


def assert_targets_at_least_44px(page: Page) -> None:
    """Every target 44 x 44 CSS px or more, but for the 0-10 scale's numbers: eleven on one
    line take 24 px of width or more (WCAG 2.2 2.5.8; test below), and the full 44 px height."""
    small = page.evaluate(f"""() => [...document.querySelectorAll("{TARGETS}")]
        .map(el => [el.textContent.trim() || el.className, el.getBoundingClientRect(),
                    el.matches(".nrs-number") ? 24 : 44])
        .filter(([, box, least]) => box.width && (box.width < least || box.height < 44))
        .map(([name, box]) => `${{name}}: ${{box.width}}x${{box.height}}`)""")
    assert small == []


def assert_no_sideways_scrolling(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= "
                         "document.documentElement.clientWidth")


def test_spanish_version(open_link):
    page = open_link("MIA-003")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("main h1")).to_have_text("Sus encuestas")
    expect(page.get_by_text("5 cuestionarios. Toma unos 12 minutos.")).to_be_visible()
    check_page(page, "es-home")
    page.get_by_role("link", name="Empezar la encuesta").click()
    expect(page.get_by_text("Página 1 de 39")).to_be_visible()
    expect(page.locator("main h1")).to_contain_text("En promedio, durante los últimos 7 días")
    check_page(page, "es-item-nrs")
    answer_screen(page)
    page.get_by_role("button", name="Siguiente").click()
    expect(page.get_by_text("Página 2 de 39")).to_be_visible()
    expect(page.get_by_role("slider")).to_have_attribute("aria-valuetext", "Sin marcar todavía")
    check_page(page, "es-item-vas")

    page.get_by_role("button", name="View in English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Page 2 of 39")).to_be_visible()
    expect(page.locator("main h1")).to_contain_text("how active is your disease today?")
    page.get_by_role("button", name="Ver en español").click()
    expect(page.locator("main h1")).to_contain_text("qué tan activa está su enfermedad")
    page.get_by_role("button", name="Atrás").click()
    expect(page.get_by_role("radio", name="5", exact=True)).to_be_checked()

    # The whole survey in Spanish: no English left on any screen, the pages' or the
    # instruments' own.
    english = english_texts(page, page.url.replace("/p/a/", "/api/v1/p/assessments/"))
    assert len(english) > 100
    seen = {"nrs", "vas"}

    def on_screen(page, kind):  # type: ignore[no-untyped-def]
        assert english_left(page, english) == [], page_number(page)
        if kind not in seen:
            seen.add(kind)
            check_page(page, f"es-item-{kind}")

    walk_to_review(page, on_screen=on_screen, lang="es")
    assert seen == {"grid", "multi", "nrs", "single", "vas"}
    expect(page.locator("main h1")).to_have_text("Revise sus respuestas")
    assert english_left(page, english) == []
    check_page(page, "es-review", full_page=False)
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.locator("main h1")).to_have_text("¡Gracias! Sus respuestas fueron enviadas.")
    received = page.locator("main p").first
    expect(received).to_contain_text("Las recibimos el domingo, 1 de marzo, 10:00")
    expect(received).to_have_text(re.compile(r"a\.\s?m\.$"))  # one full stop after "a.m."
    assert english_left(page, english) == []
    check_page(page, "es-confirmation")


def test_home_and_state_pages(open_link, ctx_factory, live_server):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    record_infusion(ctx, p, 1, status="given", given_at_local=datetime(2026, 3, 1, 9, 30))
    schedule_visit(ctx, p, starts_at_local=datetime(2026, 3, 10, 10, 0), mode="phone")
    schedule_visit(ctx, p, starts_at_local=datetime(2026, 3, 24, 14, 30), mode="video",
                   join_url="https://video.example.org/room/42")
    ctx.session.commit()
    baseline = assessment(ctx, "GNV-004", "BASELINE")
    day7 = assessment(ctx, "GNV-004", "INF1_D7")

    page = open_link("GNV-004")
    expect(page.locator("main h1")).to_have_text("Nothing to do right now")
    expect(page.get_by_text("Your next survey opens on Friday, March 6.")).to_be_visible()
    expect(page.get_by_text("Tuesday, March 10 at 10:00 AM (30 minutes)")).to_be_visible()
    check_page(page, "home-nothing-due")
    calendar = page.get_by_role("link", name="Add the Tuesday, March 10 at 10:00 AM visit to "
                                "your calendar")
    ics = page.request.get(f"{live_server.url}{calendar.get_attribute('href')}")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;TZID=America/New_York:20260310T100000" in ics.text()

    page.goto(f"{live_server.url}/p/a/{day7.id}")
    expect(page.locator("main h1")).to_have_text("This survey is not open yet")
    expect(page.get_by_text("It opens on Friday, March 6.")).to_be_visible()
    check_page(page, "state-not-open-yet")

    page.goto(f"{live_server.url}/p/a/{baseline.id}")
    expect(page.locator("main h1")).to_have_text("This survey is closed")
    expect(page.get_by_text("ended on Sunday, March 1 at 9:30 AM")).to_be_visible()
    check_page(page, "state-closed")


def test_another_participants_survey_is_not_found(open_link, live_server, ctx_factory):
    others = assessment(ctx_factory(), "GNV-003", "BASELINE")
    page = open_link("GNV-004", path=f"/p/a/{others.id}")
    expect(page.locator("main h1")).to_have_text("Survey not found")
    check_page(page, "state-not-found")
    api = f"{live_server.url}/api/v1/p/assessments/{others.id}"
    assert page.request.get(api).status == 404
    own = assessment(ctx_factory(), "GNV-004", "BASELINE")
    assert page.request.get(f"{live_server.url}/api/v1/p/assessments/{own.id}").status == 200


def test_expired_and_revoked_links(open_link, new_page, live_server, ctx_factory, clock):
    ctx = ctx_factory()
    old_token = token_for(ctx, "GNV-004")
    clock.advance(timedelta(days=61))
    page = open_link("GNV-004", token=old_token)
    expect(page.locator("main h1")).to_have_text("This link has expired")
    assert "#" not in page.url  # the token left the address bar
    check_page(page, "state-link-expired")

    page = open_link("GNV-004")  # a fresh link works, until the study team revokes it
    expect(page.locator("main h1")).not_to_have_text("This link has expired")
    revoke_links(ctx, participant(ctx, "GNV-004"), "phone lost")
    ctx.session.commit()
    page.reload()
    expect(page.locator("main h1")).to_have_text("This link has expired")

    no_link = new_page()
    no_link.goto(f"{live_server.url}/p")
    expect(no_link.locator("main h1")).to_have_text("Please open your link")
    check_page(no_link, "state-no-link")


def test_second_factor_when_the_study_asks_for_one(open_link, ctx_factory):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    second_factor.set_study_setting(ctx, p.study_id, "birth_year")
    second_factor.set_secret(ctx, p, "birth_year", "1961")
    ctx.session.commit()
    page = open_link("GNV-004")
    expect(page.locator("main h1")).to_have_text("Enter the year you were born")
    check_page(page, "second-factor")
    field = page.get_by_label("Year you were born")
    field.fill("1962")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("That does not match what your study team "
                                                  "recorded. Please try again.")
    expect(field).to_be_focused()
    check_page(page, "second-factor-wrong")
    field.fill("1961")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("main h1")).to_have_text("Your surveys")


def test_targets_and_200_percent_zoom(open_link):
    page = open_link("GNV-004")
    assert_targets_at_least_44px(page)
    page.get_by_role("link", name="Start the survey").click()
    expect(page.get_by_text("Page 1 of")).to_be_visible()
    assert_targets_at_least_44px(page)
    # 200% zoom of a 390 px wide phone: the layout has 195 CSS pixels.
    zoomed = open_link("GNV-004", viewport={"width": 195, "height": 422},
                       device_scale_factor=2)
    assert_no_sideways_scrolling(zoomed)
    zoomed.get_by_role("link", name="Start the survey").click()
    for name in ("zoom200-item-nrs", "zoom200-item-vas", "zoom200-item-grid"):
        expect(zoomed.locator("form.screen .item").first).to_be_visible()
        assert_no_sideways_scrolling(zoomed)
        assert_targets_at_least_44px(zoomed)
        check_page(zoomed, name)
        before = page_number(zoomed)
        answer_screen(zoomed)
        zoomed.get_by_role("button", name="Next").click()
        expect(zoomed.locator(".progress-text")).to_contain_text(f"Page {before + 1} of")


def test_pages_for_problems_and_mistakes(open_link, ctx_factory):
    page = open_link("GNV-004")
    page.context.set_offline(True)
    page.get_by_role("link", name="Start the survey").click()
    expect(page.locator("main h1")).to_have_text("No internet connection")
    check_page(page, "state-offline")
    page.context.set_offline(False)
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("Page 1 of 39")).to_be_visible()

    page.get_by_role("button", name="Next").click()  # nothing chosen yet
    expect(page.get_by_role("alert")).to_have_text("Please answer this question to go on.")
    expect(page.get_by_text("Not answered yet")).to_be_visible()
    check_page(page, "item-unanswered")

    ctx = ctx_factory()
    record_infusion(ctx, participant(ctx, "GNV-003"), 1, status="given",
                    given_at_local=datetime(2026, 2, 26, 9, 30))
    day30 = assessment(ctx, "GNV-003", "INF1_D30")
    cancel(ctx, day30, "visit schedule changed", cause="staff")
    ctx.session.commit()
    page = open_link("GNV-003", path=f"/p/a/{day30.id}")
    expect(page.locator("main h1")).to_have_text("This survey is no longer needed")
    check_page(page, "state-cancelled")


def test_state_pages_in_spanish(open_link, ctx_factory, live_server):
    ctx = ctx_factory()
    p = participant(ctx, "MIA-003")
    record_infusion(ctx, p, 1, status="given", given_at_local=datetime(2026, 3, 1, 9, 30))
    ctx.session.commit()
    day7 = assessment(ctx, "MIA-003", "INF1_D7")
    page = open_link("MIA-003", path=f"/p/a/{day7.id}")
    expect(page.locator("main h1")).to_have_text("Esta encuesta todavía no está abierta")
    expect(page.get_by_text("Se abre el viernes, 6 de marzo.")).to_be_visible()
    assert english_left(page, set()) == []
    check_page(page, "es-state-not-open-yet")
    page.get_by_role("link", name="Ir a mis encuestas").click()
    expect(page.locator("main h1")).to_have_text("No hay nada que hacer ahora")
    expect(page.get_by_text("Encuesta del día 7 después de la infusión 1: se abre el viernes, "
                            "6 de marzo")).to_be_visible()
    assert english_left(page, set()) == []
    check_page(page, "es-home-nothing-due")


def test_the_0_to_10_scale_is_one_line_from_320_to_390_px(open_link):
    """Eleven numbers in one row (a scale broken over two lines reads as another instrument),
    each at least WCAG 2.2's 24 x 24 CSS px (2.5.8); the project's 44 px height is kept."""
    page = open_link("GNV-004", viewport={"width": 390, "height": 844})
    page.get_by_role("link", name="Start the survey").click()
    numbers = page.locator(".nrs-option")
    expect(numbers).to_have_count(11)
    for width in (390, 360, 320):
        page.set_viewport_size({"width": width, "height": 844})
        boxes = [numbers.nth(i).bounding_box() for i in range(11)]
        assert {round(b["y"]) for b in boxes} == {round(boxes[0]["y"])}, width  # one row
        assert all(b["width"] >= 24 and b["height"] >= 44 for b in boxes), (width, boxes)
        assert all(a["x"] + a["width"] <= b["x"] for a, b in pairwise(boxes)), width
        assert_no_sideways_scrolling(page)
        if width == 320:
            check_page(page, "item-nrs-320px", full_page=False)
