"""Issue 16 item 2: a missed survey's facts on the timeline, with the texts about it as the
provider reported them (the real twilio library against the fake), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from pro_server.schedule.models import Assessment
from tests.messaging import conftest as texting
from tests.messaging.support import local
from tests.participant_web.support import ParticipantClient

GNV = "coordinator.gnv@example.org"
# The app texts through the real twilio library to the fake Twilio (tests/messaging fixtures).
fake_twilio, settings, world = texting.fake_twilio, texting.settings, texting.world
MOBILE = "+13525550162"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def test_a_missed_survey_lists_texts_link_opens_start_and_where_it_stopped(
        world, clock, app, staff_client):
    pid = world.enrol("GNV-302", MOBILE)
    clock.set(local(2026, 3, 4, 9, 0))
    world.run_jobs()
    (first,) = world.texts_to(MOBILE)
    clock.set(local(2026, 3, 4, 9, 2))
    assert world.report(first.sid, "delivered").status_code == 204
    delivered = clock.now()

    token = re.search(r"/p#([\w-]+)", first.body).group(1)
    participant = ParticipantClient(app.test_client())
    clock.set(local(2026, 3, 4, 9, 40))
    assert participant.open_session(token).status_code == 200
    opened = clock.now()
    clock.set(local(2026, 3, 4, 21, 0))  # opened again in the evening, same link
    assert participant.open_session(token).status_code == 200
    with world.session() as session:
        a = session.scalar(select(Assessment).where(
            Assessment.participant_id == pid, Assessment.code == "INF1_D7"))
    clock.set(local(2026, 3, 4, 21, 5))
    saved = participant.patch(f"/api/v1/p/assessments/{a.id}/draft", json={
        "instrument": a.instruments[0], "answers": {}, "language": "en",
        "screen": f"{a.instruments[0]}:1", "page": 12, "pages": 24})
    assert saved.status_code == 200, saved.json

    clock.set(local(2026, 3, 5, 10, 0))  # the next reminder does not arrive
    world.run_jobs()
    reminder = world.texts_to(MOBILE)[-1]
    sent = clock.now()
    clock.advance(timedelta(minutes=1))
    assert world.report(reminder.sid, "undelivered", 30003).status_code == 204
    clock.set(local(2026, 3, 12, 10, 0))

    events = staff_client(GNV).get(f"/api/v1/participants/{pid}/timeline").json["events"]
    (survey,) = [e for e in events if e["kind"] == "assessment" and e["ref"]["code"] == "INF1_D7"]
    assert survey["status"] == "missed"
    assert [{k: v for k, v in fact.items() if v not in (None, False)}
            for fact in survey["ref"]["activity"]] == [
        {"what": "text_delivered", "at": _iso(delivered)},
        {"what": "link_opened", "at": _iso(opened), "count": 2},
        {"what": "started", "at": _iso(local(2026, 3, 4, 21, 5))},
        {"what": "stopped", "at": _iso(local(2026, 3, 4, 21, 5)), "page": 12,
         "pages": 24},
        {"what": "text_not_delivered", "at": _iso(sent), "error_code": "30003",
         "error_meaning": "phone unreachable or off"},
    ]
    # The other survey's texts and the participant's other doings stay off this one.
    (baseline,) = [e for e in events if e["kind"] == "assessment"
                   and e["ref"]["code"] == "BASELINE"]
    assert baseline["ref"]["activity"] == []
