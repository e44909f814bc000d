import random
from datetime import UTC, datetime, timedelta

import pytest

from pro_server.config import ConfigError, load_settings
from pro_server.messaging.feature import error_policy
from pro_server.messaging.provider_errors import (
    Backoff,
    ErrorAction,
    ErrorPolicy,
    ErrorRule,
)

POLICY = ErrorPolicy()


@pytest.mark.parametrize(
    ("code", "http_status", "network", "action"),
    [
        (21610, 400, False, ErrorAction.OPTED_OUT),
        (21211, 400, False, ErrorAction.INVALID_NUMBER),
        (21614, 400, False, ErrorAction.INVALID_NUMBER),
        (30005, None, False, ErrorAction.INVALID_NUMBER),
        (30006, None, False, ErrorAction.INVALID_NUMBER),
        (30003, None, False, ErrorAction.RETRY_LIMITED),
        (30008, None, False, ErrorAction.RETRY_LIMITED),
        (20429, 429, False, ErrorAction.RETRY),
        (None, 429, False, ErrorAction.RETRY),
        (20500, 500, False, ErrorAction.RETRY),
        (None, 503, False, ErrorAction.RETRY),
        (None, None, True, ErrorAction.RETRY),
        (30007, None, False, ErrorAction.FAIL),  # filtered as spam: fix content, no retry
        (30034, None, False, ErrorAction.FAIL),  # unregistered 10DLC
        (20003, 401, False, ErrorAction.FAIL),  # bad credentials
        (21608, 400, False, ErrorAction.FAIL),
        (None, 400, False, ErrorAction.FAIL),
    ],
)
def test_default_mapping(code, http_status, network, action):
    assert POLICY.classify(code=code, http_status=http_status, network=network).action is action


def test_invalid_numbers_and_opt_outs_are_not_retried():
    for code in (21610, 21211, 21614, 30005, 30006):
        rule = POLICY.classify(code=code)
        assert not rule.retryable
        assert POLICY.retry_delay(rule, 1) is None


def test_limited_retry_stops_after_max_attempts():
    rule = POLICY.classify(code=30003)
    assert rule.max_attempts == 3
    assert POLICY.retry_delay(rule, 1) is not None
    assert POLICY.retry_delay(rule, 2) is not None
    assert POLICY.retry_delay(rule, 3) is None


def test_retry_is_bounded():
    rule = POLICY.classify(http_status=429)
    assert rule.max_attempts == 6
    assert all(POLICY.retry_delay(rule, n) is not None for n in range(1, 6))
    assert POLICY.retry_delay(rule, 6) is None


def test_config_overrides_defaults():
    policy = ErrorPolicy.from_config(
        {
            "codes": {
                "30007": "invalid_number",
                "30008": {"action": "retry_limited", "max_attempts": 2},
                "21610": "opted_out",
                30003: "fail",
            },
            "retry_max_attempts": 4,
            "retry_backoff": {"multiplier_seconds": 10, "max_seconds": 60, "jitter_seconds": 0},
        }
    )
    assert policy.classify(code=30007).action is ErrorAction.INVALID_NUMBER
    assert policy.classify(code=30008) == ErrorRule(ErrorAction.RETRY_LIMITED, 2)
    assert policy.classify(code=30003).action is ErrorAction.FAIL
    assert policy.classify(code=21211).action is ErrorAction.INVALID_NUMBER  # default kept
    assert policy.classify(http_status=502) == ErrorRule(ErrorAction.RETRY, 4)
    rule = policy.classify(http_status=502)
    assert [policy.retry_delay(rule, n) for n in range(1, 5)] == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
        None,
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"code": {}},
        {"codes": {"30007": "ignore"}},
        {"codes": {"30007": {"action": "fail", "retries": 1}}},
        {"retry_backoff": {"base": 2}},
    ],
)
def test_bad_config_is_rejected(config):
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails for its own reason
        ErrorPolicy.from_config(config)


def test_backoff_is_exponential_with_bounded_jitter():
    backoff = Backoff(multiplier_seconds=30, max_seconds=1800, jitter_seconds=30)
    for attempts in range(1, 10):
        base = min(30 * 2 ** (attempts - 1), 1800)
        for _ in range(20):
            seconds = backoff.delay(attempts).total_seconds()
            assert base <= seconds <= min(base + 30, 1800)
    # jitter actually varies the delay
    assert len({backoff.delay(1) for _ in range(20)}) > 1


def test_backoff_delays_are_the_ones_tenacity_gave():
    """Backoff.delay called tenacity's wait_exponential_jitter (multiplier 30 s, max 30 min,
    jitter 30 s) until it computed the formula itself: these are the delays tenacity gave
    for attempts 1-8 and 5000, with jitter off and after random.seed(20429)."""
    attempts = (1, 2, 3, 4, 5, 6, 7, 8, 5000)  # 2.0 ** 4999 overflows: the cap applies
    no_jitter = Backoff(jitter_seconds=0)
    assert [no_jitter.delay(n).total_seconds() for n in attempts] == [
        30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
    state = random.getstate()
    random.seed(20429)
    try:
        seconds = [Backoff().delay(n).total_seconds() for n in attempts]
    finally:
        random.setstate(state)
    assert seconds == pytest.approx([36.456522, 76.070346, 127.456995, 262.241749, 492.09301,
                                     968.338833, 1800, 1800, 1800], abs=1e-6)


def test_backoff_never_exceeds_max():
    backoff = Backoff(multiplier_seconds=30, max_seconds=100, jitter_seconds=50)
    assert all(backoff.delay(n) <= timedelta(seconds=100) for n in range(1, 200))


def test_next_attempt_at_is_persistable():
    now = datetime(2026, 5, 4, 15, tzinfo=UTC)
    policy = ErrorPolicy.from_config({"retry_backoff": {"jitter_seconds": 0}})
    rule = policy.classify(http_status=429)
    assert policy.next_attempt_at(rule, 2, now) == now + timedelta(seconds=60)
    assert policy.next_attempt_at(policy.classify(code=21610), 1, now) is None


def test_operators_override_the_map_with_twilio_error_policy(tmp_path):
    env = {"PRO_INSTANCE_PATH": str(tmp_path),
           "TWILIO_ERROR_POLICY": '{"codes": {"21211": "retry_limited", "30007": "retry"}}'}
    policy = error_policy(load_settings(env))
    assert policy.classify(code=21211, http_status=400).action is ErrorAction.RETRY_LIMITED
    assert policy.classify(code=30007, http_status=None).action is ErrorAction.RETRY
    assert policy.classify(code=21610, http_status=400).action is ErrorAction.OPTED_OUT


@pytest.mark.parametrize("raw", ['{"codes": {"21211": "shrug"}}', '{"colours": {}}', "not json",
                                 "[1, 2]"])
def test_a_bad_twilio_error_policy_stops_the_service_with_its_name(tmp_path, raw):
    settings = load_settings({"PRO_INSTANCE_PATH": str(tmp_path), "TWILIO_ERROR_POLICY": raw})
    with pytest.raises(ConfigError, match="TWILIO_ERROR_POLICY"):
        error_policy(settings)


@pytest.mark.parametrize(("code", "http_status"), [(20429, 429), (20500, 500), (None, 503)])
def test_configured_retry_limit_reaches_the_default_rules(code, http_status):
    """An operator who lowers retry_max_attempts gets it for Twilio's own rate-limit and
    server-error codes too, not the built-in 6."""
    policy = ErrorPolicy.from_config({"retry_max_attempts": 2})
    rule = policy.classify(code=code, http_status=http_status)
    assert rule.max_attempts == 2
    assert policy.retry_delay(rule, 1) is not None
    assert policy.retry_delay(rule, 2) is None
    raised = ErrorPolicy.from_config({"retry_max_attempts": 9})
    assert raised.retry_delay(raised.classify(code=code, http_status=http_status), 8) is not None
