"""Issue 16 item 2 in the browser: did the participant see it? The text is delivered (Twilio's
status callback, from the fake), the participant opens the link from that text on a phone,
starts, stops mid-way; the coordinator's timeline then tells it as facts with their times."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, axe_violations, screenshot
from tests.browser.participant.conftest import answer_screen, next_screen, page_number
from tests.messaging import conftest as texting
from tests.messaging.support import local

GNV = "coordinator.gnv@example.org"
# The app texts through the real twilio library to the fake Twilio (tests/messaging fixtures).
fake_twilio, settings, world = texting.fake_twilio, texting.settings, texting.world
MOBILE = "+13525550161"


def _settled(page: Page, step) -> None:  # type: ignore[no-untyped-def]
    """Run a step on the survey and wait until its saves have reached the server (the clock
    moves only between saves, so each save is stamped with the time meant)."""
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/draft" in r.url):
        step()
    page.wait_for_load_state("networkidle")


def test_the_timeline_tells_whether_the_participant_saw_the_survey(
        world, clock, live_server, new_page, demo):
    pid = world.enrol("GNV-301", MOBILE)
    clock.set(local(2026, 3, 4, 9, 0))  # the Day 7 survey opens; its text goes out
    world.run_jobs()
    (text,) = world.texts_to(MOBILE)
    clock.set(local(2026, 3, 4, 9, 2))
    assert world.report(text.sid, "delivered").status_code == 204

    # 09:40 the participant taps the link in that text; 09:41 starts; stops after page 4.
    clock.set(local(2026, 3, 4, 9, 40))
    link = re.search(r"https?://\S+/p#[\w-]+", text.body)
    assert link, text.body
    phone = new_page()
    phone.goto(live_server.url + link.group(0)[link.group(0).index("/p#"):])
    expect(phone.locator("main h1")).to_have_text("Your surveys")
    clock.set(local(2026, 3, 4, 9, 41))
    phone.get_by_role("link", name="Start the survey").click()
    for _ in range(3):
        _settled(phone, lambda: (answer_screen(phone), next_screen(phone)))
    clock.set(local(2026, 3, 4, 9, 47))
    stopped_at = page_number(phone) + 1
    _settled(phone, lambda: (answer_screen(phone), next_screen(phone)))
    assert page_number(phone) == stopped_at
    total = int(re.search(r"of (\d+)", phone.locator(".progress-text").inner_text()).group(1))
    phone.context.close()

    # A reminder a day (no delivery report comes back for them; the scheduler runs every six
    # hours here, across the switch to summer time); the last one does not arrive.
    world.walk(local(2026, 3, 8, 10, 47), step=timedelta(hours=6))
    *reminders, last = world.texts_to(MOBILE)[1:]
    assert len(reminders) == 3
    clock.advance(timedelta(minutes=1))
    assert world.report(last.sid, "undelivered", 30003).status_code == 204
    clock.set(local(2026, 3, 12, 10, 0))  # the window and its grace period are over
    page = new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login.html")
    page.get_by_label("Email").fill(GNV)
    page.get_by_label("Password").fill(demo[GNV])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/dashboard/**")
    page.locator("#top nav").wait_for()
    page.goto(f"{live_server.url}/dashboard/participant.html?id={pid}#history")

    survey = page.locator("#timeline li#a-INF1_D7")
    expect(survey).to_contain_text("Survey INF1_D7 ✗ missed")
    expect(survey.locator(".activity")).to_have_text(
        "Text delivered Mar 4, 2026, 9:02 AM · Link opened 9:40 AM · Started 9:41 AM · "
        f"Stopped at page {stopped_at} of {total} (9:47 AM) · Text sent Mar 5, 2026, 3:47 PM · "
        "Text sent Mar 6, 2026, 3:47 PM · Text sent Mar 7, 2026, 3:47 PM · "
        "Text sent Mar 8, 2026, 10:47 AM, not delivered: phone unreachable or off (30003)")
    activity = page.locator("#timeline li[data-kind='activity']")
    expect(activity).to_have_text([
        re.compile(r"Mar 4, 2026, 9:40 AM.*Link opened"),
        re.compile(r"Mar 4, 2026, 9:41 AM.*Survey INF1_D7 started"),
        re.compile(rf"Mar 4, 2026, 9:47 AM.*Survey INF1_D7 stopped at page {stopped_at} "
                   rf"of {total}\s*$"),
    ])
    message = page.locator("#timeline li[data-kind='message']",
                           has_text="SMS window opened ✓ delivered")
    expect(message).to_contain_text("Delivered Mar 4, 2026, 9:02 AM")
    assert axe_violations(page) == []
    survey.evaluate("li => { li.closest('.timeline-box').scrollTop = li.offsetTop - 8; }")
    screenshot(page, "dashboard-timeline-activity", full_page=False)
