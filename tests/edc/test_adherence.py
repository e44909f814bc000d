"""The adherence dataset: a row per assessment window, and reminder counts from the
messaging outbox (SMS only)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant
from pro_server.schedule.assessments import assessments_of

URL = "/api/v1/edc/studies/RES001-DMPM-02/adherence.csv"


def test_one_row_per_window_with_status_and_lateness(edc, client, ctx_factory):
    response = client.get(URL, headers=edc.headers())
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    ours = [r for r in rows if r["subject_key"].startswith("EDC-")]
    assert {r["assessment"] for r in ours} >= {"BASELINE", "INF1_D7", "INF1_D30"}
    late = next(r for r in ours if (r["subject_key"], r["assessment"]) == ("EDC-M01",
                                                                           "INF1_D7"))
    assert late["status"] == "completed"
    assert late["late_by_hours"] == "2.00"
    assert late["window_close_utc"].endswith("Z")
    assert late["window_close_local"][-6] == "-"
    on_time = next(r for r in ours if (r["subject_key"], r["assessment"]) == ("EDC-G01",
                                                                              "INF1_D7"))
    assert on_time["late_by_hours"] == "0.00"
    scheduled = next(r for r in ours if (r["subject_key"], r["assessment"]) == ("EDC-G01",
                                                                                "INF1_D30"))
    assert scheduled["status"] == "scheduled"
    assert scheduled["completed_at_utc"] == ""


def test_reminders_count_the_windows_texts_sent_and_delivered_not_web_or_failed(
        edc, client, ctx_factory, clock):
    ctx = ctx_factory()
    participant = ctx.session.scalar(
        select(Participant).where(Participant.subject_key == "EDC-G01"))
    day7 = next(a for a in assessments_of(ctx, participant) if a.code == "INF1_D7")
    now = clock.now()
    for n, (channel, status) in enumerate([("sms", "delivered"), ("sms", "sent"),
                                           ("sms", "undelivered"), ("sms", "failed"),
                                           ("sms", "suppressed"), ("web", "sent")]):
        ctx.session.add(OutboxMessage(
            participant_id=participant.id, study_id=participant.study_id,
            site_id=participant.site_id, channel=channel, purpose="survey_reminder",
            target_kind="assessment", target_id=day7.id, occurrence=100 + n,
            dedup_key=f"adherence-test-{n}", language="en", status=status, due_at=now,
            status_updated_at=now, created_at=now, updated_at=now))
    ctx.session.commit()
    response = client.get(URL, headers=edc.headers())
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    row = next(r for r in rows if (r["subject_key"], r["assessment"]) == ("EDC-G01", "INF1_D7"))
    assert (row["reminders_sent"], row["reminders_delivered"]) == ("3", "1")
