"""Issue 18 item 3 in the browser: a coordinator enrols a participant with reminders by
email then SMS; the window-opened email arrives at the mail server (aiosmtpd, through the
real smtplib); the message log's channel filter finds it, and the participant's timeline
shows it; the participant unsubscribes with the email's link and the participant page
says so. The app texts through the fake Twilio (the messaging fixtures)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from pro_server.jobs import all_jobs, run_job
from tests.browser.conftest import axe_violations, screenshot
from tests.messaging import conftest as texting
from tests.messaging.mail import conftest as mailing
from tests.messaging.mail.support import EMAIL_FROM
from tests.messaging.support import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID

GNV = "coordinator.gnv@example.org"
ADDRESS = "pat.email@example.com"
fake_twilio, fake_smtp = texting.fake_twilio, mailing.fake_smtp


@pytest.fixture
def settings(settings, fake_twilio, fake_smtp):  # type: ignore[no-untyped-def]
    return replace(
        settings, sms_backend="twilio", twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base_url=fake_twilio.base_url, twilio_timeout_seconds=texting.TIMEOUT_SECONDS,
        email_backend="smtp", email_from=EMAIL_FROM, smtp_host="127.0.0.1",
        smtp_port=fake_smtp.port, smtp_security="none", smtp_timeout_seconds=3.0)


def test_email_then_sms_from_enrolment_to_the_mail_server_and_the_message_log(
        signed_in, story, app, fake_smtp):
    page = signed_in(GNV)
    page.get_by_role("link", name="Participants").click()
    page.get_by_role("button", name="Enrol participant").click()
    enrol = page.get_by_role("dialog", name="Enrol a participant")
    enrol.get_by_label("Subject key").fill("GNV-009")
    enrol.get_by_label("Email").fill(ADDRESS)
    enrol.get_by_label("Reminders by").select_option(label="Email, then SMS")
    enrol.get_by_role("button", name="Enrol").click()
    expect(page.locator("h1")).to_have_text("Participant GNV-009")
    expect(page.locator(".facts")).to_contain_text("Email, then SMS")
    participant_url = page.url

    (job,) = [j for j in all_jobs() if j.id == "dispatch-messages"]
    run_job(app, job)  # the survey that opened at enrolment
    (msg,) = fake_smtp.to(ADDRESS)
    assert "survey" in msg["Subject"]

    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Participant").fill("GNV-009")
    page.get_by_label("Participant").press("Enter")
    page.get_by_label("Channel").select_option(label="Email")
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Email")
    expect(rows.first).to_contain_text("✓ sent")
    assert axe_violations(page) == []

    page.goto(participant_url)
    emailed = page.locator("#timeline li[data-kind='message']", has_text="EMAIL window opened")
    expect(emailed).to_contain_text("✓ sent")
    expect(emailed).to_contain_text("a new survey is ready for you")

    # The participant presses the email's unsubscribe link: a page with a button, no sign-in.
    path = urlsplit(msg["List-Unsubscribe"].strip("<>")).path
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.context.clear_cookies()
    page.goto(origin + path)
    expect(page.locator("h1")).to_have_text("Stop reminders by email")
    assert axe_violations(page) == []
    screenshot(page, "email-unsubscribe", full_page=False)
    page.get_by_role("button", name="Stop reminders by email").click()
    expect(page.locator("main")).to_contain_text("you will no longer get study reminders by email")
    again = signed_in(GNV)
    again.goto(participant_url)
    expect(again.locator(".facts")).to_contain_text(
        "SMS only (no more email: unsubscribed from email)")
