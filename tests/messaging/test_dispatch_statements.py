"""What dispatching costs the database per SMS, pinned so it cannot creep back (issue 20).

Before: every SMS lazily loaded its participant and its assessment, read the participant's
opt-out notice state and possible opt-outs with statements of its own, inserted its link
alone and took two UPDATEs to start its attempt: about 7 statements per SMS. Now a claimed
batch reads what its rows need in a few statements and inserts its links together, and each
SMS costs its attempt mark (which renews the lease on the rest too) and its result.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from pro_server.jobs import run_job
from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import ParticipantLink
from tests.messaging.support import local
from tests.statements import counted

PER_SMS = 2


def _sent(statements: list[str]) -> list[str]:
    return [s for s in statements
            if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def _reading(statements: list[str], table: str) -> list[str]:
    return [s for s in statements
            if re.match(rf"\s*SELECT .*\sFROM\s+{table}\b", s, re.IGNORECASE | re.DOTALL)]


def _dispatch_counted(world, clock, engine, people: int, first: int) -> list[str]:
    """`people` new participants whose Day 7 window opens: one SMS with a link each."""
    for n in range(first, first + people):
        world.enrol(f"GNV-5{n:02d}", f"+135255502{n:02d}")
    clock.set(local(2026, 3, 4, 9, 0))
    run_job(world.app, world._jobs[0])  # window transitions plan the window-open texts
    with counted(engine) as sent:
        world.dispatch()
    return _sent(sent)


def test_each_sms_costs_at_most_two_statements(world, clock, engine):
    few = _dispatch_counted(world, clock, engine, 2, 0)
    many = _dispatch_counted(world, clock, engine, 10, 2)
    for n in range(12):
        assert len(world.texts_to(f"+135255502{n:02d}")) == 1
    # A batch reads its participants and assessments once, and stores its links at once.
    assert len(_reading(many, "participant")) == 1, many
    assert len(_reading(many, "assessment")) == 1, many
    assert len([s for s in many if s.startswith("INSERT INTO participant_link")]) == 1, many
    # Eight more SMS, two more statements each (attempt, result): the rest is per run.
    assert len(many) - len(few) <= PER_SMS * 8, (few, many)
    with world.session() as session:  # every text carried a link of its own
        assert session.scalar(select(func.count()).select_from(ParticipantLink)) == 12
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == "sms", OutboxMessage.status == "sent")) == 12
