"""What the schedule tells the others (messaging plans reminders from it), and who reacts.

The schedule never imports messaging; messaging subscribes on the app's bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pro_server.events import Event

if TYPE_CHECKING:
    from pro_server.context import ServiceContext
    from pro_server.schedule.models import Assessment, Visit

# After an assessment is created, gets a new window, is cancelled or completed.
ASSESSMENT_CHANGED: Event[[ServiceContext, Assessment]] = Event(
    "assessment.changed", subscribers=("messaging",))
# After a visit is scheduled, rescheduled ("rescheduled") or cancelled ("cancelled").
VISIT_CHANGED: Event[[ServiceContext, Visit, str]] = Event(
    "visit.changed", subscribers=("messaging",))


def assessment_changed(ctx: ServiceContext, assessment: Assessment) -> None:
    ctx.events.publish(ASSESSMENT_CHANGED, ctx, assessment)


def visit_changed(ctx: ServiceContext, visit: Visit, change: str) -> None:
    ctx.events.publish(VISIT_CHANGED, ctx, visit, change)
