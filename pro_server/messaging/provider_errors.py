"""What to do about a failed send: a configurable map of Twilio error codes and HTTP
statuses to an action, plus the delay before the next attempt.

Twilio reorganised its error codes in July 2024 and advises against hard-coding them, so the
defaults below can be overridden from configuration (``ErrorPolicy.from_config``).
The backoff delay (the formula of tenacity's ``wait_exponential_jitter``, computed here for
one attempt count) is persisted by the dispatcher as ``next_attempt_at``; nothing here sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class ErrorAction(StrEnum):
    OPTED_OUT = "opted_out"  # stop all SMS to the participant, show staff
    INVALID_NUMBER = "invalid_number"  # flag the number for staff, do not retry
    RETRY_LIMITED = "retry_limited"  # a few more attempts, spaced out
    RETRY = "retry"  # 429, 5xx, network: exponential backoff, bounded
    FAIL = "fail"  # give up, show staff


@dataclass(frozen=True)
class ErrorRule:
    action: ErrorAction
    # Total attempts allowed (the first one included); only for RETRY / RETRY_LIMITED.
    max_attempts: int | None = None

    @property
    def retryable(self) -> bool:
        return self.action in (ErrorAction.RETRY, ErrorAction.RETRY_LIMITED)


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 = min(multiplier * exp_base**(n-1) + U(0, jitter), max)."""

    multiplier_seconds: float = 30.0
    max_seconds: float = 1800.0
    jitter_seconds: float = 30.0
    exp_base: float = 2.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], base: Backoff | None = None) -> Backoff:
        base = base or cls()
        unknown = set(config) - {"multiplier_seconds", "max_seconds", "jitter_seconds", "exp_base"}
        if unknown:
            raise ValueError(f"backoff: unknown keys {sorted(unknown)}")
        return replace(base, **{key: float(value) for key, value in config.items()})

    def delay(self, attempts_made: int) -> timedelta:
        """Delay after ``attempts_made`` failed attempts (1 after the first failure)."""
        if attempts_made < 1:
            raise ValueError("attempts_made starts at 1")
        try:
            exponential = self.multiplier_seconds * self.exp_base ** (attempts_made - 1)
        except OverflowError:  # a huge attempt count: the cap applies anyway
            exponential = self.max_seconds
        jitter = random.uniform(0, self.jitter_seconds)  # noqa: S311 - spreads retries, not a secret
        return timedelta(seconds=max(0.0, min(exponential + jitter, self.max_seconds)))


DEFAULT_RETRY_MAX_ATTEMPTS = 6
DEFAULT_LIMITED_MAX_ATTEMPTS = 3

DEFAULT_CODE_RULES: dict[int, ErrorRule] = {
    21610: ErrorRule(ErrorAction.OPTED_OUT),  # recipient replied STOP
    21211: ErrorRule(ErrorAction.INVALID_NUMBER),  # invalid 'To' number
    21614: ErrorRule(ErrorAction.INVALID_NUMBER),  # 'To' not SMS-capable
    21635: ErrorRule(ErrorAction.INVALID_NUMBER),  # landline
    30005: ErrorRule(ErrorAction.INVALID_NUMBER),  # unknown handset
    30006: ErrorRule(ErrorAction.INVALID_NUMBER),  # landline / unreachable carrier
    30003: ErrorRule(ErrorAction.RETRY_LIMITED, DEFAULT_LIMITED_MAX_ATTEMPTS),  # unreachable
    30008: ErrorRule(ErrorAction.RETRY_LIMITED, DEFAULT_LIMITED_MAX_ATTEMPTS),  # unknown error
    # No attempt limit of its own: the policy's retry_max_attempts (configurable) applies.
    20429: ErrorRule(ErrorAction.RETRY),  # too many requests
}


@dataclass(frozen=True)
class ErrorPolicy:
    codes: Mapping[int, ErrorRule] = field(default_factory=lambda: dict(DEFAULT_CODE_RULES))
    retry_max_attempts: int = DEFAULT_RETRY_MAX_ATTEMPTS
    retry_backoff: Backoff = field(default_factory=Backoff)
    # Handset unreachable and the like: later attempts, hours rather than seconds apart.
    limited_backoff: Backoff = field(
        default_factory=lambda: Backoff(
            multiplier_seconds=900.0, max_seconds=4 * 3600.0, jitter_seconds=300.0
        )
    )

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> ErrorPolicy:
        """Defaults overridden by a config dict::

        {"codes": {"30007": "fail", "30008": {"action": "retry_limited", "max_attempts": 2}},
         "retry_max_attempts": 6,
         "retry_backoff": {"multiplier_seconds": 30, "max_seconds": 1800, "jitter_seconds": 30},
         "limited_backoff": {"multiplier_seconds": 900}}
        """
        config = dict(config or {})
        unknown = set(config) - {"codes", "retry_max_attempts", "retry_backoff", "limited_backoff"}
        if unknown:
            raise ValueError(f"provider error policy: unknown keys {sorted(unknown)}")
        defaults = cls()
        retry_max = int(config.get("retry_max_attempts", defaults.retry_max_attempts))
        codes = dict(defaults.codes)
        for raw_code, raw_rule in dict(config.get("codes", {})).items():
            codes[int(raw_code)] = _parse_rule(raw_rule, retry_max)
        return cls(
            codes=codes,
            retry_max_attempts=retry_max,
            retry_backoff=Backoff.from_config(
                config.get("retry_backoff", {}), defaults.retry_backoff
            ),
            limited_backoff=Backoff.from_config(
                config.get("limited_backoff", {}), defaults.limited_backoff
            ),
        )

    def classify(
        self, *, code: int | None = None, http_status: int | None = None, network: bool = False
    ) -> ErrorRule:
        """Rule for an error: a configured Twilio code wins; then HTTP 429 / 5xx; then a
        network error (connection refused, reset, timeout); anything else fails."""
        if code is not None and code in self.codes:
            rule = self.codes[code]
            if rule.action is ErrorAction.RETRY and rule.max_attempts is None:
                return replace(rule, max_attempts=self.retry_max_attempts)
            return rule
        if http_status == 429 or (http_status is not None and 500 <= http_status <= 599):
            return ErrorRule(ErrorAction.RETRY, self.retry_max_attempts)
        if network:
            return ErrorRule(ErrorAction.RETRY, self.retry_max_attempts)
        return ErrorRule(ErrorAction.FAIL)

    def retry_delay(self, rule: ErrorRule, attempts_made: int) -> timedelta | None:
        """Delay before the next attempt, or None when the rule gives up."""
        if not rule.retryable:
            return None
        limit = rule.max_attempts if rule.max_attempts is not None else self.retry_max_attempts
        if attempts_made >= limit:
            return None
        backoff = (
            self.limited_backoff
            if rule.action is ErrorAction.RETRY_LIMITED
            else (self.retry_backoff)
        )
        return backoff.delay(attempts_made)

    def next_attempt_at(
        self, rule: ErrorRule, attempts_made: int, now: datetime
    ) -> datetime | None:
        """``now`` + retry delay, or None when the message should not be retried. The
        dispatcher still moves the result out of quiet hours and drops it past expiry."""
        delay = self.retry_delay(rule, attempts_made)
        return None if delay is None else now + delay


def _parse_rule(raw: str | Mapping[str, Any], retry_max: int) -> ErrorRule:
    if isinstance(raw, str):
        action = ErrorAction(raw)
        max_attempts = None
    else:
        unknown = set(raw) - {"action", "max_attempts"}
        if unknown:
            raise ValueError(f"provider error rule: unknown keys {sorted(unknown)}")
        action = ErrorAction(raw["action"])
        max_attempts = raw.get("max_attempts")
    if action is ErrorAction.RETRY_LIMITED and max_attempts is None:
        max_attempts = DEFAULT_LIMITED_MAX_ATTEMPTS
    if action is ErrorAction.RETRY and max_attempts is None:
        max_attempts = retry_max
    if action not in (ErrorAction.RETRY, ErrorAction.RETRY_LIMITED):
        max_attempts = None
    return ErrorRule(action, None if max_attempts is None else int(max_attempts))
