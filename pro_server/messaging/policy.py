"""A participant's reminder policy: the protocol's own ``ReminderPolicy``, read as it is."""

from __future__ import annotations

from pro_server.participants.models import Participant
from pro_server.protocol.definitions import ReminderPolicy
from pro_server.schedule.assessments import protocol_for


def policy_for(participant: Participant) -> ReminderPolicy:
    """The reminder policy of the protocol version the participant follows."""
    return protocol_for(participant).reminder_policy


def opt_out_every(participant: Participant) -> int:
    return policy_for(participant).opt_out_notice_every_n_messages
