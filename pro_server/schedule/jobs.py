"""The schedule's periodic job: record window transitions the clock has caused.

Statuses are right on read without it (they are derived); the job records each change
once, so reminders and reports can follow. Safe with several scheduler processes: rows are
claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, and a unique key on the transition
table refuses a second record of the same change.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, or_, select

from pro_server.context import ServiceContext
from pro_server.db import claim
from pro_server.schedule.assessments import grace, record_status
from pro_server.schedule.models import Assessment

BATCH = 200


def record_window_transitions(new_context: Callable[[], ServiceContext]) -> int:
    total = 0
    while True:
        ctx = new_context()
        with ctx.session:
            now = ctx.now()
            due = select(Assessment).where(
                Assessment.cancelled_at.is_(None),
                Assessment.completed_at.is_(None),
                or_(
                    and_(Assessment.recorded_status == "scheduled", Assessment.window_start <= now),
                    and_(Assessment.recorded_status.in_(("open", "new")),
                         Assessment.window_end <= now),
                    and_(Assessment.recorded_status == "in_progress",
                         Assessment.window_end <= now - grace(ctx)),
                ),
            ).order_by(Assessment.id).limit(BATCH)
            rows = list(ctx.session.scalars(claim(due, ctx.session)))
            changed = sum(
                record_status(ctx, a, a.status_at(now, grace(ctx)), by="scheduler") for a in rows
            )
            ctx.session.commit()
        total += changed
        if len(rows) < BATCH or changed == 0:
            return total
