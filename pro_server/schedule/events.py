"""Other features react to schedule changes (messaging plans reminders) by registering here.

The schedule never imports messaging; messaging appends its handlers at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pro_server.context import ServiceContext
    from pro_server.schedule.models import Assessment, Visit

AssessmentHandler = Callable[["ServiceContext", "Assessment"], None]
VisitHandler = Callable[["ServiceContext", "Visit", str], None]

# Called after an assessment is created, gets a new window, is cancelled or completed.
ASSESSMENT_CHANGED: list[AssessmentHandler] = []
# Called after a visit is scheduled, rescheduled ("rescheduled") or cancelled ("cancelled").
VISIT_CHANGED: list[VisitHandler] = []


def assessment_changed(ctx: ServiceContext, assessment: Assessment) -> None:
    for handler in ASSESSMENT_CHANGED:
        handler(ctx, assessment)


def visit_changed(ctx: ServiceContext, visit: Visit, change: str) -> None:
    for handler in VISIT_CHANGED:
        handler(ctx, visit, change)
