"""The one adapter from a protocol file's reminder policy to the planner's policy."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pro_server.messaging import planning
from pro_server.messaging.quiet_hours import QuietHours
from pro_server.participants.models import Participant
from pro_server.protocol.definitions import ReminderPolicy as ProtocolReminderPolicy
from pro_server.schedule.assessments import protocol_for

DEFAULT_OPT_OUT_EVERY = 10


@cache
def adapt(rules: ProtocolReminderPolicy) -> planning.ReminderPolicy:
    """The protocol's names and shapes -> the planner's (frozen, so cached per protocol)."""
    offsets = set(rules.visit_reminder_offsets) if rules.visit_reminders else set()
    return planning.ReminderPolicy(
        window_opened=rules.window_opened_message,
        daily_reminder_max=rules.max_daily_reminders,
        last_day=rules.last_day_reminder,
        default_local_time=rules.daily_reminder_local_time,
        quiet_hours=QuietHours(start=rules.send_from, end=rules.send_until),
        visit_reminder_24h=timedelta(hours=24) in offsets,
        visit_reminder_1h=timedelta(hours=1) in offsets,
    )


def protocol_rules(participant: Participant) -> ProtocolReminderPolicy:
    return protocol_for(participant).reminder_policy


def policy_for(participant: Participant) -> planning.ReminderPolicy:
    return adapt(protocol_rules(participant))


def opt_out_every(participant: Participant) -> int:
    return protocol_rules(participant).opt_out_notice_every_n_messages or DEFAULT_OPT_OUT_EVERY
