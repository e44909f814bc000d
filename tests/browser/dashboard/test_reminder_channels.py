"""Issue 18 item 4 in the browser: a coordinator enrols a participant with reminders by push
then SMS, sees the choice on the participant page; the survey's reminder goes to a device the
push service no longer knows (410) and finds in the message log the failed push with its
reason beside the SMS sent in its place; changes the choice through "Edit contact"; an
investigator finds the change, with its reason, in the audit trail.

The app sends through the real twilio library to the fake Twilio and through pywebpush to
the fake push service (the tests/messaging fixtures)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pro_server.jobs import all_jobs, run_job
from pro_server.messaging import push
from pro_server.participants.models import Participant
from tests.browser.conftest import axe_violations, screenshot
from tests.messaging import conftest as texting
from tests.messaging.push import conftest as pushing
from tests.messaging.push.support import PRIVATE, PUBLIC, SUBJECT
from tests.messaging.support import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID

GNV = "coordinator.gnv@example.org"
INVESTIGATOR = "investigator@example.org"
MOBILE = "+13525550188"
fake_twilio, fake_push = texting.fake_twilio, pushing.fake_push


@pytest.fixture
def settings(settings, fake_twilio, fake_push):  # type: ignore[no-untyped-def]
    return replace(
        settings, sms_backend="twilio", twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base_url=fake_twilio.base_url, twilio_timeout_seconds=texting.TIMEOUT_SECONDS,
        vapid_private_key=PRIVATE, vapid_public_key=PUBLIC, vapid_subject=SUBJECT,
        push_endpoint_hosts=("127.0.0.1",), push_timeout_seconds=3.0)


def _dispatch(app) -> None:  # type: ignore[no-untyped-def]
    """Two dispatcher rounds: the push attempt, then the SMS queued in its place."""
    (job,) = [j for j in all_jobs() if j.id == "dispatch-messages"]
    run_job(app, job)
    run_job(app, job)


def test_push_then_sms_from_enrolment_to_the_message_log_and_the_audit_trail(
        signed_in, story, app, ctx_factory, fake_twilio, fake_push):
    page = signed_in(GNV)
    page.get_by_role("link", name="Participants").click()
    page.get_by_role("button", name="Enrol participant").click()
    enrol = page.get_by_role("dialog", name="Enrol a participant")
    enrol.get_by_label("Subject key").fill("GNV-008")
    enrol.get_by_label("Mobile phone").fill(MOBILE)
    expect(enrol.get_by_label("Reminders by").locator("option")).to_have_count(4)
    enrol.get_by_label("Reminders by").select_option(label="Push notification, then SMS")
    enrol.get_by_label("SMS consent").check()
    enrol.get_by_label("Where consent was recorded").fill("ICF v3 signed at screening")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-enrol-channels", full_page=False)
    enrol.get_by_role("button", name="Enrol").click()
    expect(page.locator("h1")).to_have_text("Participant GNV-008")
    participant_url = page.url
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Reminders by")
    expect(facts).to_contain_text("Push notification, then SMS (no device has notifications on)")

    # The participant turns notifications on on their phone, then uninstalls the app: the
    # push service answers 410 from now on.
    ctx = ctx_factory()
    device = fake_push.subscribe()
    participant = ctx.session.scalar(
        select(Participant).where(Participant.subject_key == "GNV-008"))
    push.subscribe(ctx, participant,
                   {**device.as_browser_json(), "device_label": "Android phone"})
    ctx.session.commit()
    device.gone = True
    page.reload()
    expect(facts).to_contain_text("Push notification, then SMS (1 device with notifications on)")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-participant-channels", full_page=False)

    _dispatch(app)  # the survey that opened at enrolment: push refused, then the SMS
    (text,) = [m for m in fake_twilio.messages if m.to == MOBILE]
    assert "survey" in text.body.lower()

    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Participant").fill("GNV-008")
    page.get_by_label("Participant").press("Enter")
    page.get_by_label("Channel").select_option(label="Push notification")
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(1)
    pushed = rows.first
    expect(pushed).to_have_attribute("data-status", "failed")
    expect(pushed).to_contain_text("Push notification")
    expect(pushed).to_contain_text("✗ failed")
    expect(pushed).to_contain_text("the device no longer takes notifications (HTTP 410)")
    expect(pushed).to_contain_text("sent by SMS instead")
    page.get_by_label("Channel").select_option("")
    texted = page.locator("#messages tbody tr[data-channel='sms']")
    expect(texted).to_have_count(1)
    expect(texted).to_contain_text("✓ sent")
    expect(texted).to_contain_text("In place of the push notification that could not be delivered")
    expect(page.locator("#messages tbody tr[data-channel='push']")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "dashboard-message-log-channels")

    page.goto(participant_url)
    pushed = page.locator("#timeline li[data-kind='message']", has_text="PUSH window opened")
    expect(pushed).to_contain_text("✗ failed")
    expect(pushed).to_contain_text("no longer takes notifications (HTTP 410); sent by SMS instead")
    expect(page.locator("h1")).to_have_text("Participant GNV-008")
    page.get_by_role("button", name="Edit contact, language, time zone").click()
    edit = page.get_by_role("dialog", name="Contact and preferences of GNV-008")
    expect(edit.get_by_label("Reminders by")).to_have_value("push,sms")
    edit.get_by_label("Reminders by").select_option(label="SMS only")
    edit.get_by_label("Reason for the change").fill("Participant asked for texts only")
    edit.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Participant updated.")
    expect(facts).to_contain_text("SMS only")

    audit = signed_in(INVESTIGATOR)
    audit.get_by_role("link", name="Audit trail").click()
    audit.get_by_label("Participant").fill("GNV-008")
    audit.get_by_label("Participant").press("Enter")
    update = audit.locator("#events tr[data-action='participant.update']")
    expect(update).to_have_count(1)
    expect(update).to_contain_text("Gina Coordinator")
    expect(update).to_contain_text("Participant asked for texts only")
    expect(update).to_contain_text("reminder_channels")
    expect(update.locator("del")).to_have_text("push,sms")
    expect(update.locator("ins")).to_have_text("sms")
