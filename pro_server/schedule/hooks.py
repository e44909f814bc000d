"""Wires the schedule to participant changes (enrolment, status, time zone, withdrawal)."""

from __future__ import annotations

from pro_server.context import ServiceContext
from pro_server.participants import services as participants
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


def register() -> None:
    """Idempotent: create_app may run many times in one process (tests)."""
    for hooks, handler in ((participants.ENROLMENT_HOOKS, _on_enrol),
                           (participants.UPDATE_HOOKS, _on_update),
                           (participants.WITHDRAWAL_HOOKS, _on_withdraw)):
        if handler not in hooks:
            hooks.append(handler)
