import subprocess
import sys
from pathlib import Path

import pytest
import requests
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator

from pro_server.messaging.sms_backends import TwilioSender
from tests.fakes.fake_twilio import FakeTwilio, post_form
from tests.messaging.conftest import wall_clock_twilio

# No app here: the fake Twilio runs on the wall clock.
fake_twilio = wall_clock_twilio

PHONE = "+13055550123"
SERVICE_NUMBER = "+13055550100"


def test_binds_localhost_only(fake_twilio):
    assert fake_twilio.base_url.startswith("http://127.0.0.1:")


def test_signed_status_callback_validates(fake_twilio, twilio_sender, webhook_receiver):
    url = webhook_receiver.base_url + "/webhooks/twilio/status?outbox=17"
    sid = twilio_sender.send(PHONE, "hello", status_callback=url).provider_id
    assert fake_twilio.post_status_callback(sid, "delivered").status == 204
    [post] = webhook_receiver.wait_for(1)
    assert post.path == "/webhooks/twilio/status?outbox=17"
    assert post.form["MessageSid"] == post.form["SmsSid"] == sid
    assert post.form["MessageStatus"] == "delivered"
    assert post.form["AccountSid"] == fake_twilio.account_sid
    assert post.form["MessagingServiceSid"] == twilio_sender.messaging_service_sid
    assert len(post.form["RawDlrDoneDate"]) == 10
    validator = RequestValidator(fake_twilio.auth_token)
    signature = post.headers["X-Twilio-Signature"]
    assert validator.validate(url, post.form, signature)
    # tampered: a changed field, another URL, or another account's token
    assert not validator.validate(url, {**post.form, "MessageStatus": "failed"}, signature)
    assert not validator.validate(url.replace("outbox=17", "outbox=18"), post.form, signature)
    assert not RequestValidator("another-token").validate(url, post.form, signature)
    assert fake_twilio.get(sid).status == "delivered"


def test_tampered_request_does_not_validate(fake_twilio, webhook_receiver):
    url = webhook_receiver.base_url + "/webhooks/twilio/inbound"
    signed = fake_twilio.build_inbound(PHONE, "STOP", SERVICE_NUMBER, url)
    tampered = signed.__class__(
        signed.url, {**signed.params, "From": "+13055550999"}, signed.headers
    )
    assert post_form(tampered).status == 204
    [post] = webhook_receiver.wait_for(1)
    validator = RequestValidator(fake_twilio.auth_token)
    assert post.form["From"] == "+13055550999"
    assert not validator.validate(url, post.form, post.headers["X-Twilio-Signature"])


def test_signed_inbound_message(fake_twilio, webhook_receiver):
    url = webhook_receiver.base_url + "/webhooks/twilio/inbound"
    result = fake_twilio.post_inbound(PHONE, "No más mensajes", SERVICE_NUMBER, url)
    assert result.status == 204
    [post] = webhook_receiver.wait_for(1)
    assert post.form["Body"] == "No más mensajes"
    assert (post.form["From"], post.form["To"]) == (PHONE, SERVICE_NUMBER)
    assert post.form["MessageSid"].startswith("SM")
    assert RequestValidator(fake_twilio.auth_token).validate(
        url, post.form, post.headers["X-Twilio-Signature"]
    )
    assert PHONE not in fake_twilio.opted_out  # only Twilio's own keywords block


def test_build_requests_for_a_flask_test_client(fake_twilio):
    signed = fake_twilio.build_inbound(PHONE, "HELP", SERVICE_NUMBER, "http://localhost/sms")
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(fake_twilio.auth_token).validate(
        "http://localhost/sms", signed.params, signed.headers["X-Twilio-Signature"]
    )


def test_status_callback_needs_a_url(fake_twilio, twilio_sender):
    sid = twilio_sender.send(PHONE, "hello", status_callback=None).provider_id
    with pytest.raises(ValueError, match="no status callback URL"):
        fake_twilio.build_status_callback(sid, "sent")


def test_fail_next_rejects_unknown_kinds(fake_twilio):
    with pytest.raises(ValueError, match="unknown failure kind"):
        fake_twilio.fail_next(1, "explode")
    with pytest.raises(ValueError, match="unknown failure kind"):
        fake_twilio.fail_next(1, 200)
    with pytest.raises(ValueError, match="within"):
        fake_twilio.set_failure_rate(1.5)


def test_fail_next_counts_down(fake_twilio, twilio_sender):
    fake_twilio.fail_next(2, 500)
    outcomes = []
    for _ in range(3):
        try:
            twilio_sender.send(PHONE, "hello", status_callback=None)
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(type(error).__name__)
    assert outcomes == ["ProviderError", "ProviderError", "ok"]
    assert fake_twilio.request_count == 3


def test_control_endpoints_for_local_trials(fake_twilio, twilio_sender, webhook_receiver):
    sid = twilio_sender.send(
        PHONE, "hello", status_callback=webhook_receiver.base_url + "/status"
    ).provider_id
    listed = requests.get(fake_twilio.base_url + "/_fake/messages", timeout=5).json()
    assert [m["sid"] for m in listed] == [sid]

    def control(path, form):
        return requests.post(fake_twilio.base_url + path, data=form, timeout=5).json()

    assert control("/_fake/status", {"MessageSid": sid, "MessageStatus": "sent"})["status"] == 204
    inbound_url = webhook_receiver.base_url + "/inbound"
    answer = control(
        "/_fake/inbound", {"From": PHONE, "Body": "STOP", "To": SERVICE_NUMBER, "Url": inbound_url}
    )
    assert answer["status"] == 204
    posts = webhook_receiver.wait_for(2)
    assert [p.path for p in posts] == ["/status", "/inbound"]
    assert PHONE in fake_twilio.opted_out


def test_auto_status_posts_sent_then_delivered(webhook_receiver):
    with FakeTwilio(auto_status=True) as fake:
        sender = TwilioSender(
            fake.account_sid,
            fake.auth_token,
            from_number=SERVICE_NUMBER,
            timeout_seconds=1,
            api_base_url=fake.base_url,
        )
        try:
            sender.send(PHONE, "hello", status_callback=webhook_receiver.base_url + "/s")
        finally:
            sender.close()
        posts = webhook_receiver.wait_for(2)
    assert [p.form["MessageStatus"] for p in posts] == ["sent", "delivered"]


def test_standalone_server_prints_what_it_receives():
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "tests.fakes.fake_twilio",
            "--port",
            "0",
            "--no-auto-status",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[2],  # `tests` is imported from the checkout
    )
    try:
        banner = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in banner
        base_url = banner.split("listening on ")[1].split()[0]
        sender = TwilioSender(
            "AC" + "0" * 31 + "1",
            "fake-auth-token",
            from_number=SERVICE_NUMBER,
            timeout_seconds=5,
            api_base_url=base_url,
        )
        try:
            sid = sender.send(PHONE, "hello from a local trial", status_callback=None).provider_id
        finally:
            sender.close()
        assert sid in process.stdout.readline()
        assert process.stdout.readline().strip() == "hello from a local trial"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_fail_list_next_fails_lookups_then_heals(fake_twilio, twilio_sender):
    twilio_sender.send("+13055550123", "hello", status_callback=None)
    with pytest.raises(ValueError, match="unknown list failure kind"):
        fake_twilio.fail_list_next(1, 21610)
    fake_twilio.fail_list_next(1, 500)
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        twilio_sender.client.messages.list(to="+13055550123", limit=5)
    assert len(twilio_sender.client.messages.list(to="+13055550123", limit=5)) == 1
