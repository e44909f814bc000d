"""A participant answers on a phone: the whole baseline, resuming, and an offline submit."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from pro_server.participant_web.services import save_answers
from pro_server.responses.models import Response, Submission
from tests.browser.conftest import screenshot
from tests.browser.participant.conftest import (
    answer_screen,
    assert_on_first_screenful,
    check_page,
    next_screen,
    page_number,
    walk_to_review,
)
from tests.participant_web.support import assessment, complete_answers, stored_counts


def test_participant_completes_the_whole_baseline_on_a_phone(open_link, ctx_factory):
    page = open_link("GNV-004")
    expect(page.locator("main h1")).to_have_text("Your surveys")
    expect(page.get_by_text("Please answer by the end of Thursday, April 2.")).to_be_visible()
    # 72 questions everyone is asked, at SECONDS_PER_ITEM (burden.py) each
    expect(page.get_by_text("5 questionnaires. It takes about 12 minutes.")).to_be_visible()
    check_page(page, "home")
    page.get_by_role("link", name="Start the survey").click()
    seen: list[str] = []

    def on_screen(page, kind):  # type: ignore[no-untyped-def]
        if kind in seen:
            return
        seen.append(kind)
        check_page(page, f"item-{kind}")
        if kind == "vas":
            slider = page.get_by_role("slider")
            expect(slider).to_have_attribute("aria-valuetext", "Not marked yet")
            page.get_by_role("button", name="Next").click()  # untouched is not an answer
            expect(page.get_by_role("alert")).to_have_text(
                "Please answer this question to go on.")
            expect(slider).to_be_focused()
            slider.focus()
            page.keyboard.press("End")
            expect(slider).to_have_attribute("aria-valuetext", "100 out of 100")
        if kind == "nrs":
            page.get_by_role("radio", name="0, No pain").focus()
            page.keyboard.press("ArrowRight")
            expect(page.get_by_role("radio", name="1", exact=True)).to_be_checked()

    walk_to_review(page, on_screen=on_screen)
    assert sorted(seen) == ["grid", "multi", "nrs", "single", "vas"]
    # One collapsed group per questionnaire, Send on the first screenful.
    groups = page.locator("details.review-block")
    expect(groups).to_have_count(5)
    expect(page.get_by_text("Marked at 30 out of 100")).to_be_hidden()
    assert_on_first_screenful(page, page.get_by_role("button", name="Send my answers"))
    check_page(page, "review", full_page=False)
    page.get_by_text("Patient global assessment of disease activity").click()
    expect(page.get_by_text("Marked at 30 out of 100")).to_be_visible()
    expect(groups.nth(1).locator(".review-count")).to_have_text("1 answer")
    check_page(page, "review-open", full_page=False)
    page.get_by_role("button", name="Send my answers").scroll_into_view_if_needed()
    screenshot(page, "participant-review-send", full_page=False)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("main h1")).to_have_text("Thank you! Your answers were sent.")
    check_page(page, "confirmation")

    ctx = ctx_factory()
    baseline = assessment(ctx, "GNV-004", "BASELINE")
    counts = stored_counts(ctx, baseline)
    assert (counts["submissions"], counts["responses"]) == (1, 5)
    assert counts["drafts"] == []
    vas = ctx.session.scalar(select(Response).where(
        Response.assessment_id == baseline.id, Response.instrument_code == "ptga_vas"))
    assert vas.answers["ptga_vas"]["value"] == 30
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('.draft.') "
                         "|| k.includes('.submit.')).length") == 0

    page.get_by_role("link", name="Back to my surveys").click()
    expect(page.locator("main h1")).to_have_text("Nothing to do right now")
    expect(page.get_by_text("Starting survey: completed on Sunday, March 1")).to_be_visible()
    check_page(page, "state-nothing-due")
    page.goto(f"{page.url.split('/p')[0]}/p/a/{baseline.id}")
    expect(page.locator("main h1")).to_have_text("You already completed this survey")
    check_page(page, "state-completed")


def test_closing_mid_survey_and_coming_back_resumes_where_they_were(open_link, ctx_factory):
    page = open_link("MIA-004")
    page.get_by_role("link", name="Start the survey").click()
    for _ in range(3):  # pain, the VAS, and the HAQ's first category
        answer_screen(page)
        next_screen(page)
    expect(page.locator("main h1")).to_have_text("Arising")
    page.locator(".item").first.locator(".option").nth(2).click()  # half of this screen
    expect(page.locator("#save-status")).to_have_text("Your answers are saved.")
    page.context.close()  # the phone's browser is gone, with its cookie and storage

    page = open_link("MIA-004")  # the link of the next reminder, in a new browser
    expect(page.get_by_text("You have started this survey", exact=False)).to_have_count(0)
    # pain, the VAS, the HAQ's dressing (2) and one arising item: 5 of 72 questions
    expect(page.get_by_text("You have answered 6% of the questions.")).to_be_visible()
    check_page(page, "home-resume")
    page.get_by_role("link", name="Continue the survey").click()
    expect(page.locator("main h1")).to_have_text("Arising")
    assert page_number(page) == 4
    expect(page.locator(".item").first.locator("input").nth(2)).to_be_checked()
    check_page(page, "resumed")
    page.get_by_role("button", name="Back").click()
    expect(page.locator("main h1")).to_have_text("Dressing and grooming")
    expect(page.locator(".item").nth(1).locator("input").first).to_be_checked()

    ctx = ctx_factory()
    counts = stored_counts(ctx, assessment(ctx, "MIA-004", "BASELINE"))
    assert [code for code, _ in counts["drafts"]] == ["haq_di", "pain_nrs", "ptga_vas"]
    assert counts["started_at"] is not None
    assert counts["submissions"] == 0


def test_offline_submit_waits_on_the_phone_and_is_stored_once(open_link, ctx_factory):
    ctx = ctx_factory()
    baseline = assessment(ctx, "GNV-003", "BASELINE")
    for code, answers in complete_answers(baseline).items():
        save_answers(ctx, baseline, code, answers, "en", "review")
    ctx.session.commit()

    page = open_link("GNV-003")
    page.get_by_role("link", name="Continue the survey").click()
    expect(page.locator("main h1")).to_have_text("Check your answers")
    page.context.set_offline(True)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("main h1")).to_have_text("Your answers are saved on this phone")
    check_page(page, "queued")
    queued = "Object.keys(localStorage).filter(k => k.includes('.submit.')).length"
    assert page.evaluate(queued) == 1
    assert stored_counts(ctx, baseline)["submissions"] == 0

    keys: list[str] = []

    def lose_the_first_reply(route):  # type: ignore[no-untyped-def]
        keys.append(route.request.post_data_json["idempotency_key"])
        if len(keys) == 1:
            route.fetch()  # the server stores it, but the phone never hears back
            route.abort()
        else:
            route.continue_()

    page.route("**/submission", lose_the_first_reply)
    page.context.set_offline(False)
    expect(page.locator("main h1")).to_have_text("Thank you! Your answers were sent.")
    assert len(keys) == 2
    assert keys[0] == keys[1]
    counts = stored_counts(ctx, baseline)
    assert (counts["submissions"], counts["responses"]) == (1, 5)
    assert ctx.session.scalar(select(func.count()).select_from(Submission)) == 1
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('.submit.')"
                         " || k.includes('.draft.')).length") == 0
