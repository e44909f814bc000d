"""db.insert_now writes outside the unit of work: a rollback must still forget its objects,
as it forgets what a flush inserted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pro_server.db import insert_now
from pro_server.responses.models import Draft
from pro_server.schedule.models import Assessment


def _draft(assessment_id: int, code: str) -> Draft:
    return Draft(assessment_id=assessment_id, instrument_code=code, answers={"q1": 1},
                 language="en", position=None)


@pytest.fixture
def session_and_assessment(ctx_factory, demo):
    session = ctx_factory().session
    return session, session.scalars(select(Assessment.id).order_by(Assessment.id)).first()


def test_a_rolled_back_savepoint_forgets_what_it_inserted(session_and_assessment):
    session, assessment_id = session_and_assessment
    kept = _draft(assessment_id, "KEPT")
    insert_now(session, [kept])
    with session.begin_nested() as savepoint:
        lost = _draft(assessment_id, "LOST")
        insert_now(session, [lost])
        savepoint.rollback()
    assert lost not in session  # as a flushed object would be expunged
    assert kept in session
    # SQLite hands the rolled-back id out again: the next insert must not clash with a
    # leftover object of that identity in the session.
    again = _draft(assessment_id, "AGAIN")
    insert_now(session, [again])
    session.commit()
    stored = session.scalars(select(Draft.instrument_code).where(
        Draft.assessment_id == assessment_id).order_by(Draft.id)).all()
    assert "LOST" not in stored
    assert {"KEPT", "AGAIN"} <= set(stored)


def test_a_rolled_back_transaction_forgets_what_it_inserted(session_and_assessment):
    session, assessment_id = session_and_assessment
    lost = _draft(assessment_id, "LOST")
    insert_now(session, [lost])
    lost_id = lost.id
    session.rollback()
    assert lost not in session
    assert session.get(Draft, lost_id) is None  # not a stale object the database never kept
