import logging
from datetime import UTC, datetime, timedelta

import pytest
from twilio.rest import Client

from pro_server.messaging.provider_errors import ErrorAction, ErrorPolicy
from pro_server.messaging.sms_backends import (
    ConsoleSender,
    ProviderError,
    ProviderTimeout,
    RetryableKind,
    SendResult,
    SmsSender,
    TimeoutTwilioHttpClient,
    TwilioSender,
    redact_links,
    redact_phone,
)
from tests.messaging.conftest import CLIENT_TIMEOUT, wall_clock_twilio

# No app here: the fake Twilio runs on the wall clock.
fake_twilio = wall_clock_twilio

PHONE = "+13055550123"
BODY = "MyoStudy: a new survey is ready for you. https://pro.example.org/p/Tok3n Questions?"
CALLBACK = "https://pro.example.org/webhooks/twilio/status"
POLICY = ErrorPolicy()


def before_send():
    return datetime.now(UTC) - timedelta(seconds=1)


# -- console -------------------------------------------------------------------------------


def test_console_sender_records_and_logs_redacted(caplog):
    clock_value = datetime(2026, 5, 4, 15, tzinfo=UTC)
    sender = ConsoleSender(clock=lambda: clock_value)
    assert isinstance(sender, SmsSender)
    with caplog.at_level(logging.INFO, logger="pro_server.messaging.sms_backends"):
        result = sender.send(PHONE, BODY, status_callback=None)
    assert result == SendResult(result.provider_id, "sent")
    assert sender.sent[0].body == BODY
    assert PHONE not in caplog.text
    assert "5550123" not in caplog.text
    assert "Tok3n" not in caplog.text
    assert "+*********23" in caplog.text
    assert "https://pro.example.org/…" in caplog.text
    assert sender.find_sent(PHONE, clock_value, BODY) == result.provider_id
    assert sender.find_sent(PHONE, clock_value + timedelta(seconds=1), BODY) is None
    assert sender.find_sent("+13055550199", clock_value, BODY) is None


def test_redaction_helpers():
    assert redact_phone("+13055550123") == "+*********23"
    assert redact_phone("(305) 555-0123") == "********23"
    assert redact_links("see https://x.org/p/abc?t=1 now") == "see https://x.org/… now"


# -- the HTTP client -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:8765/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://api.sydney.au1.twilio.com/2010-04-01/x.json?Page=1",
            "http://127.0.0.1:8765/2010-04-01/x.json?Page=1",
        ),
        ("https://messaging.twilio.com/v1/Services", "http://127.0.0.1:8765/v1/Services"),
        ("https://example.org/x", "https://example.org/x"),
        ("https://eviltwilio.com/x", "https://eviltwilio.com/x"),
    ],
)
def test_twilio_urls_are_rewritten_to_the_fake(url, expected):
    client = TimeoutTwilioHttpClient(timeout_seconds=1, api_base_url="http://127.0.0.1:8765/")
    assert client.rewrite_url(url) == expected
    client.session.close()


def test_http_client_requires_a_timeout():
    with pytest.raises(ValueError, match="positive"):
        TimeoutTwilioHttpClient(timeout_seconds=0)
    client = TimeoutTwilioHttpClient(timeout_seconds=2.5)
    assert client.timeout == 2.5
    assert client.rewrite_url("https://api.twilio.com/x") == "https://api.twilio.com/x"
    client.session.close()


def test_sender_needs_a_sender_identity():
    with pytest.raises(ValueError, match="messaging_service_sid or from_number"):
        TwilioSender("AC1", "token")


# -- the real twilio library against the fake server ----------------------------------------


def test_send_ok_through_messaging_service(fake_twilio, twilio_sender):
    assert isinstance(twilio_sender, SmsSender)
    result = twilio_sender.send(PHONE, BODY, status_callback=CALLBACK)
    assert result.provider_id.startswith("SM")
    assert len(result.provider_id) == 34
    assert result.provider_status == "accepted"
    [recorded] = fake_twilio.messages
    assert recorded.sid == result.provider_id
    assert (recorded.to, recorded.body, recorded.from_) == (PHONE, BODY, None)
    assert recorded.messaging_service_sid == twilio_sender.messaging_service_sid
    assert recorded.status_callback == CALLBACK


def test_send_ok_from_a_number(fake_twilio):
    sender = TwilioSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number="+13055550100",
        timeout_seconds=CLIENT_TIMEOUT,
        api_base_url=fake_twilio.base_url,
    )
    try:
        result = sender.send(PHONE, BODY, status_callback=None)
    finally:
        sender.close()
    assert result.provider_status == "queued"
    [recorded] = fake_twilio.messages
    assert recorded.from_ == "+13055550100"
    assert recorded.messaging_service_sid is None
    assert recorded.status_callback is None


def test_429_is_retryable(fake_twilio, twilio_sender):
    fake_twilio.fail_next(1, 429)
    with pytest.raises(ProviderError) as caught:
        twilio_sender.send(PHONE, BODY, status_callback=None)
    error = caught.value
    assert (error.code, error.http_status) == (20429, 429)
    assert error.retryable_kind is RetryableKind.RATE_LIMITED
    assert POLICY.classify(code=error.code, http_status=error.http_status).action is (
        ErrorAction.RETRY
    )
    assert fake_twilio.messages == []
    # the next attempt goes through
    assert twilio_sender.send(PHONE, BODY, status_callback=None).provider_id


def test_500_is_retryable(fake_twilio, twilio_sender):
    fake_twilio.fail_next(1, 500)
    with pytest.raises(ProviderError) as caught:
        twilio_sender.send(PHONE, BODY, status_callback=None)
    assert caught.value.retryable_kind is RetryableKind.SERVER
    assert POLICY.classify(code=caught.value.code, http_status=500).action is ErrorAction.RETRY


def test_21610_maps_to_opted_out(fake_twilio, twilio_sender):
    fake_twilio.fail_next(1, 21610)
    with pytest.raises(ProviderError) as caught:
        twilio_sender.send(PHONE, BODY, status_callback=None)
    error = caught.value
    assert (error.code, error.http_status, error.retryable_kind) == (21610, 400, None)
    assert POLICY.classify(code=error.code, http_status=error.http_status).action is (
        ErrorAction.OPTED_OUT
    )


def test_invalid_number_is_flagged(fake_twilio, twilio_sender):
    with pytest.raises(ProviderError) as caught:
        twilio_sender.send("3055550123", BODY, status_callback=None)  # not E.164
    assert caught.value.code == 21211
    assert POLICY.classify(code=21211, http_status=400).action is ErrorAction.INVALID_NUMBER


def test_after_an_inbound_stop_twilio_blocks_with_21610(fake_twilio, twilio_sender):
    fake_twilio.build_inbound(PHONE, "stop", "+13055550100", "http://127.0.0.1:9/inbound")
    with pytest.raises(ProviderError) as caught:
        twilio_sender.send(PHONE, BODY, status_callback=None)
    assert caught.value.code == 21610
    fake_twilio.build_inbound(PHONE, "START", "+13055550100", "http://127.0.0.1:9/inbound")
    assert twilio_sender.send(PHONE, BODY, status_callback=None).provider_id


def test_wrong_credentials_fail(fake_twilio):
    sender = TwilioSender(
        fake_twilio.account_sid,
        "wrong-token",
        from_number="+13055550100",
        timeout_seconds=CLIENT_TIMEOUT,
        api_base_url=fake_twilio.base_url,
    )
    try:
        with pytest.raises(ProviderError) as caught:
            sender.send(PHONE, BODY, status_callback=None)
    finally:
        sender.close()
    assert (caught.value.code, caught.value.http_status) == (20003, 401)
    assert POLICY.classify(code=20003, http_status=401).action is ErrorAction.FAIL


def test_timeout_raises_provider_timeout_and_nothing_was_sent(fake_twilio, twilio_sender):
    fake_twilio.fail_next(1, "timeout")
    since = before_send()
    with pytest.raises(ProviderTimeout):
        twilio_sender.send(PHONE, BODY, status_callback=None)
    assert fake_twilio.messages == []
    assert twilio_sender.find_sent(PHONE, since, BODY) is None


def test_accept_then_timeout_is_found_before_any_resend(fake_twilio, twilio_sender):
    other = twilio_sender.send(PHONE, "an earlier, different text", status_callback=None)
    fake_twilio.fail_next(1, "accept_then_timeout")
    since = before_send()
    with pytest.raises(ProviderTimeout):
        twilio_sender.send(PHONE, BODY, status_callback=CALLBACK)
    [_, accepted] = fake_twilio.wait_for_messages(2)
    found = twilio_sender.find_sent(PHONE, since, BODY)
    assert found == accepted.sid != other.provider_id
    assert twilio_sender.find_sent("+13055550199", since, BODY) is None
    assert twilio_sender.find_sent(PHONE, since + timedelta(minutes=10), BODY) is None


def test_find_sent_uses_the_date_sent_list_once_sent(fake_twilio, twilio_sender, webhook_receiver):
    since = before_send()
    sid = twilio_sender.send(
        PHONE, BODY, status_callback=webhook_receiver.base_url + "/status"
    ).provider_id
    fake_twilio.post_status_callback(sid, "sent")
    assert fake_twilio.get(sid).date_sent is not None
    assert twilio_sender.find_sent(PHONE, since, BODY) == sid


def test_dropped_connection_is_an_unknown_outcome(fake_twilio, twilio_sender):
    fake_twilio.fail_next(1, "reset")
    with pytest.raises(ProviderTimeout):
        twilio_sender.send(PHONE, BODY, status_callback=None)
    assert fake_twilio.messages == []


def test_connection_refused_is_a_retryable_network_error(fake_twilio):
    base = fake_twilio.base_url
    fake_twilio.stop()  # nothing listens there any more
    sender = TwilioSender(
        "AC1", "token", from_number="+13055550100", timeout_seconds=0.5, api_base_url=base
    )
    try:
        with pytest.raises(ProviderError) as caught:
            sender.send(PHONE, BODY, status_callback=None)
    finally:
        sender.close()
    assert caught.value.retryable_kind is RetryableKind.NETWORK
    assert POLICY.classify(network=True).action is ErrorAction.RETRY


def test_twilio_library_logs_no_phone_numbers(fake_twilio, twilio_sender, caplog):
    with caplog.at_level(logging.DEBUG):
        twilio_sender.send(PHONE, BODY, status_callback=None)
    assert PHONE not in caplog.text
    assert "Tok3n" not in caplog.text


def test_async_error_code_arrives_with_the_undelivered_callback(
    fake_twilio, twilio_sender, webhook_receiver
):
    fake_twilio.fail_next(1, 30003)
    sid = twilio_sender.send(
        PHONE, BODY, status_callback=webhook_receiver.base_url + "/status"
    ).provider_id
    assert fake_twilio.post_status_callback(sid, "undelivered").status == 204
    [post] = webhook_receiver.wait_for(1)
    assert post.form["MessageStatus"] == "undelivered"
    assert post.form["ErrorCode"] == "30003"
    assert POLICY.classify(code=int(post.form["ErrorCode"])).action is ErrorAction.RETRY_LIMITED


def test_seeded_failure_rate_is_reproducible(fake_twilio, twilio_sender):
    def outcomes():
        fake_twilio.set_failure_rate(0.5, seed=7)
        seen = []
        for _ in range(12):
            try:
                twilio_sender.send(PHONE, BODY, status_callback=None)
                seen.append("ok")
            except ProviderError as error:
                seen.append(str(error.http_status))
            except ProviderTimeout:
                seen.append("unknown")
        return seen

    first, second = outcomes(), outcomes()
    assert first == second
    assert "ok" in first
    assert len(set(first)) > 1
    fake_twilio.set_failure_rate(0.0)


def test_message_list_pages_and_fetch_work_with_the_library(fake_twilio):
    client = Client(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        http_client=TimeoutTwilioHttpClient(timeout_seconds=1, api_base_url=fake_twilio.base_url),
    )
    try:
        sids = [
            client.messages.create(to=PHONE, from_="+13055550100", body=f"text {n}").sid
            for n in range(5)
        ]
        client.messages.create(to="+13055550199", from_="+13055550100", body="someone else")
        listed = client.messages.list(to=PHONE, page_size=2)
        assert sorted(m.sid for m in listed) == sorted(sids)
        assert [m.body for m in listed] == [f"text {n}" for n in reversed(range(5))]
        fetched = client.messages(sids[0]).fetch()
        assert (fetched.body, fetched.to, fetched.direction) == ("text 0", PHONE, "outbound-api")
        assert fetched.date_created.tzinfo is not None
    finally:
        client.http_client.session.close()


# -- lookups that fail (issue 19) ------------------------------------------------------------


@pytest.mark.parametrize("kind", [500, 503, "reset"])
def test_a_failing_lookup_is_a_provider_error_not_a_library_one(fake_twilio, twilio_sender, kind):
    since = before_send()
    twilio_sender.send(PHONE, BODY, status_callback=None)
    fake_twilio.fail_list_next(1, kind)
    # Before: twilio's TwilioException("Unable to fetch page") escaped every caller.
    with pytest.raises((ProviderError, ProviderTimeout)):
        twilio_sender.find_sent(PHONE, since, BODY)
    assert twilio_sender.find_sent(PHONE, since, BODY) is not None  # healed


def test_a_slow_answer_after_the_client_gave_up_is_a_timeout(fake_twilio, twilio_sender):
    fake_twilio.hold_seconds = CLIENT_TIMEOUT + 2
    since = before_send()
    fake_twilio.fail_next(1, "slow")
    with pytest.raises(ProviderTimeout):
        twilio_sender.send(PHONE, BODY, status_callback=None)
    # The provider has it all the same: the lookup finds it, nothing is sent twice.
    (message,) = fake_twilio.messages
    assert twilio_sender.find_sent(PHONE, since, BODY) == message.sid


def test_fetch_status_reads_a_report_that_never_arrived(fake_twilio, twilio_sender):
    sid = twilio_sender.send(PHONE, BODY, status_callback=CALLBACK).provider_id
    fake_twilio.build_status_callback(sid, "undelivered", 30003)  # built, never posted
    report = twilio_sender.fetch_status(sid)
    assert (report.status, report.error_code) == ("undelivered", 30003)
    fake_twilio.fail_list_next(1, 500)
    with pytest.raises(ProviderError) as failed:
        twilio_sender.fetch_status(sid)
    assert failed.value.retryable_kind is RetryableKind.SERVER  # "ask again later"
    with pytest.raises(ProviderError) as unknown:
        twilio_sender.fetch_status("SM" + "0" * 32)
    assert (unknown.value.http_status, unknown.value.retryable_kind) == (404, None)
