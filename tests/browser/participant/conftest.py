"""Helpers for the participant-page browser tests: open a link, answer screens, check pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, axe_violations, screenshot
from tests.participant_web.support import token_for

PAGE_OF = re.compile(r"(?:Page|Página) (\d+) (?:of|de) (\d+)")
NEXT = {"en": "Next", "es": "Siguiente"}


@pytest.fixture
def open_link(live_server, new_page, ctx_factory, demo):
    """`open_link("GNV-004")` opens a fresh link of that participant in a new phone browser."""

    def open_(subject_key: str, *, page: Page | None = None, token: str | None = None,
              path: str = "/p", **context_options) -> Page:  # type: ignore[no-untyped-def]
        page = page or new_page(viewport=context_options.pop("viewport", PHONE),
                                **context_options)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        token = token or token_for(ctx_factory(), subject_key)
        page.goto(f"{live_server.url}{path}#{token}")
        expect(page.locator("main h1")).to_be_visible()
        return page

    return open_


def check_page(page: Page, name: str, *, full_page: bool = True) -> None:
    """No axe-core WCAG 2.1 A/AA violation, no script error, and a phone-size screenshot."""
    assert axe_violations(page) == [], name
    assert getattr(page, "errors", []) == [], name
    screenshot(page, f"participant-{name}", full_page=full_page)


def assert_on_first_screenful(page: Page, target: Locator) -> None:
    """The target is wholly on screen with the page scrolled to its top: no scrolling to it."""
    page.evaluate("window.scrollTo(0, 0)")
    box = target.bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= page.viewport_size["height"], box


def page_number(page: Page) -> int:
    text = page.locator(".progress-text").inner_text()
    match = PAGE_OF.search(text)
    assert match, text
    return int(match.group(1))


def screen_kind(page: Page) -> str:
    form = page.locator("form.screen")
    if form.locator(".nrs-option").count():
        return "nrs"
    if form.locator("input[type=range]").count():
        return "vas"
    if form.locator("input[type=checkbox]").count():
        return "multi"
    return "grid" if form.locator(".item").count() > 1 else "single"


VAS_THUMB_PX = 16  # static/participant/styles.css and widgets.js


def answer_screen(page: Page, *, nrs: int = 5, vas: int = 30) -> None:
    """Answer every question on the current screen (no box checked on multi-choice)."""
    items = page.locator("form.screen .item")
    expect(items.first).to_be_visible()
    for i in range(items.count()):
        item = items.nth(i)
        if item.locator(".nrs-option").count():
            item.locator(".nrs-option").nth(nrs).click()
        elif item.locator("input[type=range]").count():
            slider = item.locator("input[type=range]")
            box = slider.bounding_box()
            assert box is not None
            x = VAS_THUMB_PX / 2 + vas / 100 * (box["width"] - VAS_THUMB_PX)
            slider.click(position={"x": x, "y": box["height"] / 2})
        elif item.locator("input[type=radio]").count():
            item.locator(".option").first.click()


def next_screen(page: Page, lang: str = "en") -> None:
    before = page_number(page)
    page.get_by_role("button", name=NEXT[lang], exact=True).click()
    expect(page.locator(".progress-text")).to_have_text(
        re.compile(rf"^(Page|Página) {before + 1} (of|de) \d+$"))
    expect(page.locator("main h1")).to_be_focused()  # screen readers start on the new screen


def walk_to_review(page: Page, *, on_screen=None,  # type: ignore[no-untyped-def]
                   lang: str = "en") -> None:
    """Answer and leave every screen until the review; `on_screen(page, kind)` runs first."""
    while True:
        expect(page.locator("form.screen, .screen.review").first).to_be_visible()
        if page.locator(".screen.review").count():
            return
        kind = screen_kind(page)
        if on_screen:
            on_screen(page, kind)
        answer_screen(page)
        next_screen(page, lang)


UI_ENGLISH = """async () => {
    const { STRINGS } = await import("/p/assets/i18n.js");
    const text = document.body.innerText;
    return Object.entries(STRINGS.en)
        // the study's programme name is a name, the same in both languages
        .filter(([key]) => !key.startsWith("lang.") && key !== "app.program")
        .flatMap(([, en]) => en.split(/\\{\\w+\\}/))
        .map((part) => part.trim())
        .filter((part) => part.length > 3 && text.includes(part));
}"""


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values()))
    if isinstance(value, list):
        return set().union(*map(_strings, value))
    return set()


def english_texts(page: Page, assessment_url: str) -> set[str]:
    """The instruments' English strings not quoted in their Spanish ones (a name may be)."""
    english, spanish = (_strings(page.request.get(f"{assessment_url}?lang={lang}").json()
                                 ["instruments"]) for lang in ("en", "es"))
    return {text for text in english if len(text) > 3
            and not any(text in other for other in spanish)}


def english_left(page: Page, english: set[str]) -> list[str]:
    """English visible on a Spanish page: the pages' own strings and the instruments'."""
    text = page.locator("body").inner_text()
    return sorted(page.evaluate(UI_ENGLISH) + [s for s in english if s in text])
