"""Wires messaging to the schedule's events and to participant changes."""

from __future__ import annotations

from pro_server.context import ServiceContext
from pro_server.events import EventBus
from pro_server.messaging import outbox
from pro_server.participants import events as participant_events
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.schedule import events
from pro_server.schedule.models import Assessment, Visit

REPLAN_FIELDS = frozenset({"timezone", "reminder_time", "language", "reminder_channels"})


def _on_assessment(ctx: ServiceContext, a: Assessment) -> None:
    outbox.plan_assessment(ctx, a)


def _on_visit(ctx: ServiceContext, visit: Visit, change: str) -> None:
    outbox.plan_visit(ctx, visit, change)


def _on_update(ctx: ServiceContext, p: Participant, changed: set[str]) -> None:
    if "status" in changed and p.status is not ParticipantStatus.enrolled:
        outbox.cancel_for_participant(ctx, p, f"participant {p.status.value}")
    elif changed & REPLAN_FIELDS:
        outbox.replan_participant(ctx, p)


def _on_withdraw(ctx: ServiceContext, p: Participant) -> None:
    outbox.cancel_for_participant(ctx, p, "participant withdrawn")


def subscribe(bus: EventBus) -> None:
    bus.subscribe(events.ASSESSMENT_CHANGED, "messaging", _on_assessment)
    bus.subscribe(events.VISIT_CHANGED, "messaging", _on_visit)
    bus.subscribe(participant_events.UPDATED, "messaging", _on_update)
    bus.subscribe(participant_events.WITHDRAWN, "messaging", _on_withdraw)
