"""What the participants feature tells the others, and who reacts, in order.

The schedule runs first (it creates, moves or cancels assessments), then messaging plans or
cancels reminders for what the schedule left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pro_server.events import Event

if TYPE_CHECKING:
    from pro_server.context import ServiceContext
    from pro_server.participants.models import Participant

# After enrolment: the schedule creates the participant's assessments.
ENROLLED: Event[[ServiceContext, Participant]] = Event(
    "participant.enrolled", subscribers=("schedule",))
# After a change, with the names of the fields that changed.
UPDATED: Event[[ServiceContext, Participant, set[str]]] = Event(
    "participant.updated", subscribers=("schedule", "messaging"))
# After withdrawal: open assessments and pending messages are cancelled.
WITHDRAWN: Event[[ServiceContext, Participant]] = Event(
    "participant.withdrawn", subscribers=("schedule", "messaging"))
