"""The participant a staff request names, found within the caller's sites: one lookup for
every feature's staff routes (participants, schedule, messaging, participant pages, dashboard)."""

from __future__ import annotations

from pro_server.access import policy
from pro_server.errors import NotFound
from pro_server.participants.models import Participant
from pro_server.staff.models import StaffUser
from pro_server.web import db_session


def load_participant(user: StaffUser, participant_id: int, *, write: bool = False) -> Participant:
    """The participant if the user may see it (and change it, with write=True); else 404/403."""
    p = db_session().get(Participant, participant_id)
    if p is None:
        raise NotFound("Participant not found")
    policy.check_site(user, p.site_id, write=write)
    return p
