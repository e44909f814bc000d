"""Issue 16 item 3: the message log reads like a log: what happened, newest event first (not
texts still to go out, which `upcoming=true` lists), filters by status, purpose, participant
and date, provider error codes in plain language, and a CSV of the same."""

from __future__ import annotations

import csv
import io

from pro_server.messaging.error_meanings import error_meaning

GNV = "coordinator.gnv@example.org"
LOG = "/api/v1/messages"


def test_the_log_lists_what_happened_newest_event_first(story):
    client = story.client(GNV)
    answer = client.get(LOG + "?page_size=100")
    assert answer.status_code == 200
    rows = answer.json
    assert rows
    assert "pending" not in {m["status"] for m in rows}
    events = [m["event_at"] for m in rows]
    assert events == sorted(events, reverse=True)
    upcoming = client.get(LOG + "?upcoming=true&page_size=100").json
    assert upcoming
    assert {m["status"] for m in upcoming} == {"pending"}
    due = [m["due_at"] for m in upcoming]
    assert due == sorted(due)


def test_error_codes_read_as_plain_language_and_filters_narrow_the_log(story):
    client = story.client(GNV)
    failed = client.get(LOG + "?status=failed&subject_key=GNV-002").json
    assert [(m["subject_key"], m["last_error_code"], m["error_meaning"]) for m in failed] == [
        ("GNV-002", "30003", "phone unreachable or off")]
    at = failed[0]["event_at"]
    assert client.get(LOG, query_string={"status": "failed", "since": at}).json == failed
    assert client.get(LOG, query_string={"status": "failed", "until": at}).json == []
    purpose = failed[0]["purpose"]
    assert {m["purpose"] for m in client.get(LOG + f"?purpose={purpose}").json} == {purpose}
    assert client.get(LOG + "?subject_key=MIA-001").json == []  # another site's participant
    refused = client.get(LOG + "?since=yesterday")
    assert refused.status_code == 422
    assert "since" in refused.json["errors"]["query"]


def test_the_log_downloads_as_csv_with_the_same_filters(story):
    client = story.client(GNV)
    answer = client.get(LOG + ".csv?status=failed")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="message-log.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["subject_key"], r["status"], r["error_code"], r["error_meaning"]) for r in rows] == [
        ("GNV-002", "failed", "30003", "phone unreachable or off")]
    assert rows[0]["event_at_local"].endswith("-05:00")  # Florida, in winter
    everything = client.get(LOG + ".csv").get_data(as_text=True)
    assert "MIA-" not in everything
    assert "/p#" not in everything  # texts without the participant's link


def test_the_codes_coordinators_meet_most_have_a_meaning():
    assert error_meaning("30003") == "phone unreachable or off"
    assert error_meaning(30005) == "unknown number (not in service)"
    assert error_meaning("21610").startswith("participant replied STOP")
    assert error_meaning("99999") is None
    assert error_meaning(None) is None
