"""The participant's session in Flask's signed, HttpOnly cookie: {"id": ..., "link": ...}.

Opening a participant session ends any staff session in the same browser (and signing in
as staff ends a participant session: the staff login clears the cookie).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from flask import session
from sqlalchemy.orm import Session

from pro_server.errors import Unauthorized
from pro_server.participant_web.access import (
    StandingSubmission,
    StandingSurvey,
    standing_participant,
    standing_submission,
    standing_survey,
)
from pro_server.participants.models import Participant
from pro_server.web import clock, db_session, request_globals

KEY = "participant"


def start(participant_id: int, link_id: int) -> None:
    session.clear()
    session[KEY] = {"id": participant_id, "link": link_id}
    session.permanent = True


def end() -> None:
    session.pop(KEY, None)


def current_participant() -> Participant:
    """The signed-in participant, or 401 with a state the page shows."""
    here = request_globals()
    known = getattr(here, "participant", None)
    if known is None:
        known = here.participant = _standing(standing_participant)
    return cast(Participant, known)


def current_survey(assessment_id: int) -> StandingSurvey:
    """`current_participant` for a request on one of their assessments: the participant
    (only who they are), the assessment if it is theirs and its drafts, read together
    (`standing_survey`); 401 as `current_participant`."""
    here = request_globals()
    known = getattr(here, "survey", None)
    if known is None:
        known = here.survey = _standing(
            lambda db, pid, link, now: standing_survey(db, pid, link, now, assessment_id))
    return cast(StandingSurvey, known)


def current_submission(assessment_id: int) -> StandingSubmission:
    """`current_survey` for a submission (`standing_submission`: with the participant's
    time zone); 401 as `current_participant`."""
    here = request_globals()
    if getattr(here, "submission", None) is None:
        here.submission = _standing(
            lambda db, pid, link, now: standing_submission(db, pid, link, now, assessment_id))
    return cast(StandingSubmission, here.submission)


def _standing(check: Callable[[Session, Any, Any, datetime], Any]) -> Any:
    data = session.get(KEY)
    if not isinstance(data, dict):
        raise Unauthorized("Open the link from your latest message", {"state": "no_session"})
    found = check(db_session(), data.get("id"), data.get("link"), clock().now())
    if found is None:
        end()
        raise Unauthorized("This link has expired", {"state": "link_expired"})
    return found
