"""What each participant request costs the database, pinned so it cannot creep back (issue 20).

Under load every statement is a round trip inside the request. Before: the session check read
the participant and the link apart, a draft save read the same draft twice, and a submission
took the audit chain's lock and read the chain's tail once per instrument, inserted each
version apart and updated each version's seq apart (36 statements on PostgreSQL). Since the
audit trail is sealed after commit (docs/audit-sealing.md), a request only inserts its
events: no lock, no read of the chain's tail, no update of each version's seq (19 -> 12
statements on PostgreSQL).
"""

from __future__ import annotations

import re

import pytest

from tests.participant_web.support import (
    ParticipantClient,
    assessment,
    complete_answers,
    token_for,
)
from tests.statements import counted

API = "/api/v1/p"
KEY = "5d1c0a7e9b3f4e2d8c6a1b0f9e8d7c6b"

# Statements per request on each backend (SQLite's BEGIN is not counted). SQLite inserts
# the versions of a submission one by one.
# Opening a session from a link ("open") is once per tap on a link, not per answer: it reads
# the link with its participant, study and site (joined: the contact line needs them; 8 -> 5),
# the study settings, updates the link, writes the audit event (no lock, no chain tail: the
# sealer chains it later), and (issue 16 item 2, "did the participant see it?") inserts one
# participant_link_open row. Saving a draft with its page number costs nothing more: the
# page rides on the draft row the save writes. A draft save and a submission read the
# assessment and its drafts in one statement (a join), not two (save 4 -> 3, first save
# 7 -> 6, submission 12 -> 11 on PostgreSQL). A submission cancels its survey's pending
# reminders with one UPDATE, not a SELECT of their ids and an UPDATE (11 -> 10). It also
# inserts its versions' scores into response_score, which the study-wide score report reads
# instead of every response's JSON: one INSERT for all instruments (10 -> 11); and its
# versions' export texts into response_export, which the EDC exports join instead of
# decoding and formatting every version's answers again: one more INSERT (11 -> 12). Its audit
# events are one executemany on both backends (SQLite inserted them one by one: 20 -> 16).
# A draft save checks the session in the statement that reads the assessment and its drafts
# (save 3 -> 2, first save 6 -> 5). Opening a session reads the study's second-factor
# setting with the link (open 5 -> 4). A submission checks the session in the statement
# that reads the assessment and its drafts too (12 -> 11; SQLite 16 -> 15), and looks its
# idempotency key up only when it would be refused or its INSERT meets the key (11 -> 10).
BUDGET = {
    "sqlite": {"open": 4, "session": 3, "first_save": 5, "save": 2, "submission": 14},
    "postgresql": {"open": 4, "session": 3, "first_save": 5, "save": 2, "submission": 10},
}


def _sent(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith("BEGIN")]


def _matching(statements: list[str], pattern: str) -> list[str]:
    return [s for s in statements if re.match(pattern, s, re.IGNORECASE | re.DOTALL)]


@pytest.fixture
def survey(signed_in, ctx_factory):
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    return signed_in("GNV-004"), a, complete_answers(a)


def test_a_participant_request_checks_participant_and_link_in_one_statement(
        survey, engine, database):
    client, _a, _answers = survey
    with counted(engine) as sent:
        response = client.get(f"{API}/session")
    assert response.status_code == 200
    statements = _sent(sent)
    assert len(_matching(statements, r"SELECT .*\sFROM\s+participant\b")) == 1, sent
    assert _matching(statements, r"SELECT .*\sFROM\s+participant_link\b") == [], sent
    assert len(statements) <= BUDGET[database.backend]["session"], sent


def test_opening_a_session_from_a_link_records_the_open_in_one_insert(
        app, demo, ctx_factory, engine, database):
    client = ParticipantClient(app.test_client())
    token = token_for(ctx_factory(), "GNV-004")
    with counted(engine) as sent:
        response = client.open_session(token)
    assert response.status_code == 200, response.json
    statements = _sent(sent)
    assert len(_matching(statements, r"INSERT INTO participant_link_open\b")) == 1, sent
    assert len(statements) <= BUDGET[database.backend]["open"], f"{len(statements)}\n{sent}"


def test_saving_a_draft_reads_the_drafts_once(survey, engine, database):
    client, a, answers = survey
    first = a.instruments[0]
    budget = BUDGET[database.backend]
    for n, key in enumerate(("first_save", "save", "save")):
        with counted(engine) as sent:
            response = client.patch(f"{API}/assessments/{a.id}/draft", json={
                "instrument": first, "answers": answers[first], "language": "en",
                "screen": f"screen-{n}", "page": n + 1, "pages": 40})
        assert response.status_code == 200, response.json
        statements = _sent(sent)
        assert len(_matching(statements, r"SELECT .*\s(FROM|JOIN)\s+draft\b")) == 1, sent
        assert len(statements) <= budget[key], f"{key}: {len(statements)}\n{sent}"


def test_a_submission_takes_no_lock_and_writes_its_versions_and_events_together(
        survey, engine, database):
    client, a, answers = survey
    first = a.instruments[0]
    client.patch(f"{API}/assessments/{a.id}/draft", json={
        "instrument": first, "answers": answers[first], "language": "en"})
    with counted(engine) as sent:
        response = client.post(f"{API}/assessments/{a.id}/submission", json={
            "idempotency_key": KEY, "answers": answers, "language": "en"})
    assert response.status_code == 201, response.json
    statements = _sent(sent)
    assert len(a.instruments) == 5
    assert _matching(statements, r"SELECT pg_advisory") == [], sent
    assert _matching(statements, r"SELECT .*\sFROM\s+audit_event\b") == [], sent
    assert len(_matching(statements, r"INSERT INTO audit_event\b")) == 1, sent
    assert _matching(statements, r"UPDATE response\b") == [], sent
    assert len(_matching(statements, r"INSERT INTO response_score\b")) == 1, sent
    assert len(_matching(statements, r"INSERT INTO response_export\b")) == 1, sent
    assert len(_matching(statements, r"SELECT .*\s(FROM|JOIN)\s+draft\b")) == 1, sent
    assert len(statements) <= BUDGET[database.backend]["submission"], (
        f"{len(statements)}\n{sent}")
