"""The participant's session in Flask's signed, HttpOnly cookie: {"id": ..., "link": ...}.

Opening a participant session ends any staff session in the same browser (and signing in
as staff ends a participant session: the staff login clears the cookie).
"""

from __future__ import annotations

from flask import session

from pro_server.errors import Unauthorized
from pro_server.participant_web.access import standing_participant
from pro_server.participants.models import Participant, ParticipantLink
from pro_server.web import clock, db_session, request_globals

KEY = "participant"


def start(participant: Participant, link: ParticipantLink) -> None:
    session.clear()
    session[KEY] = {"id": participant.id, "link": link.id}
    session.permanent = True


def end() -> None:
    session.pop(KEY, None)


def current_participant() -> Participant:
    """The signed-in participant, or 401 with a state the page shows."""
    here = request_globals()
    known = getattr(here, "participant", None)
    if known is not None:
        return known
    data = session.get(KEY)
    if not isinstance(data, dict):
        raise Unauthorized("Open the link from your latest message", {"state": "no_session"})
    p = standing_participant(db_session(), data.get("id"), data.get("link"), clock().now())
    if p is None:
        end()
        raise Unauthorized("This link has expired", {"state": "link_expired"})
    here.participant = p
    return p
