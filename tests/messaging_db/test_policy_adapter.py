"""The protocol file's reminder policy, in the planner's terms (one adapter)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from pro_server.messaging.policy import adapt
from pro_server.messaging.quiet_hours import QuietHours
from pro_server.protocol.definitions import default_registry


def test_the_protocol_policy_is_adapted_to_the_planner():
    rules = default_registry().current("RES001-DMPM-02").reminder_policy
    policy = adapt(rules)
    assert (policy.window_opened, policy.daily_reminder_max, policy.last_day) == (True, 3, True)
    assert policy.default_local_time == time(10, 0)
    assert policy.quiet_hours == QuietHours(time(9, 0), time(20, 0))
    assert (policy.visit_reminder_24h, policy.visit_reminder_1h) == (True, True)


def test_visit_reminders_follow_the_offsets_and_the_switch():
    rules = default_registry().current("RES001-DMPM-02").reminder_policy
    only_day_before = adapt(replace(rules, visit_reminder_offsets=(timedelta(hours=24),)))
    assert (only_day_before.visit_reminder_24h, only_day_before.visit_reminder_1h) == (True, False)
    off = adapt(replace(rules, visit_reminders=False))
    assert (off.visit_reminder_24h, off.visit_reminder_1h) == (False, False)
