"""Wires the schedule to participant changes (enrolment, status, time zone, withdrawal)."""

from __future__ import annotations

from pro_server.context import ServiceContext
from pro_server.events import EventBus
from pro_server.participants import events as participant_events
from pro_server.participants.models import Participant
from pro_server.schedule.assessments import cancel_open_work, sync_assessments


def _on_enrol(ctx: ServiceContext, p: Participant) -> None:
    sync_assessments(ctx, p, cause="enrolment")


def _on_update(ctx: ServiceContext, p: Participant, changed: set[str]) -> None:
    if changed & {"status", "timezone"}:
        sync_assessments(ctx, p, cause="participant " + ",".join(sorted(changed)),
                         reason="participant record changed")


def _on_withdraw(ctx: ServiceContext, p: Participant) -> None:
    cancel_open_work(ctx, p)


def subscribe(bus: EventBus) -> None:
    bus.subscribe(participant_events.ENROLLED, "schedule", _on_enrol)
    bus.subscribe(participant_events.UPDATED, "schedule", _on_update)
    bus.subscribe(participant_events.WITHDRAWN, "schedule", _on_withdraw)
