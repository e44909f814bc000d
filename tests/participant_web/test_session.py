"""Links open a session for one participant: hashed tokens, expiry, revocation, rate limits."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.config import load_settings
from pro_server.participants import services as participants
from pro_server.participants.links import issue_link, revoke_links
from pro_server.participants.models import ParticipantLink
from tests.helpers import StaffClient
from tests.participant_web.support import (
    ParticipantClient,
    assessment,
    participant,
    token_for,
)


def test_a_link_opens_an_httponly_session_for_that_participant(app, demo, ctx_factory):
    ctx = ctx_factory()
    token = token_for(ctx, "GNV-004")
    client = ParticipantClient(app.test_client())
    response = client.open_session(token)
    assert response.status_code == 200
    assert response.json["participant_id"] == participant(ctx, "GNV-004").id
    assert response.json["language"] == "en"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert client.get("/api/v1/p/home").status_code == 200
    assert client.get("/api/v1/participants").status_code == 401  # no staff rights
    stored = ctx.session.scalars(select(ParticipantLink.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in str(stored)
    event = ctx.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "participant.session_open"))
    assert event.actor_type == "participant"
    assert event.actor_label == "GNV-004"


def test_a_participant_session_and_a_staff_session_exclude_each_other(app, demo, ctx_factory):
    client = app.test_client()
    email = "coordinator.gnv@example.org"
    StaffClient.login(client, email, demo[email])
    assert client.get("/api/v1/auth/me").status_code == 200
    assert ParticipantClient(client).open_session(
        token_for(ctx_factory(), "GNV-004")).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/p/home").status_code == 200
    StaffClient.login(client, email, demo[email])
    assert client.get("/api/v1/p/home").status_code == 401


def test_unknown_expired_or_revoked_links_open_nothing(app, demo, ctx_factory, clock):
    ctx = ctx_factory()
    client = ParticipantClient(app.test_client())
    unknown = client.open_session("A" * 22)
    assert unknown.status_code == 401
    assert unknown.json["errors"]["state"] == "link_expired"

    expiring = token_for(ctx, "GNV-004")
    clock.advance(timedelta(days=app.extensions["pro"]["settings"].participant_link_ttl_days))
    assert client.open_session(expiring).json["errors"]["state"] == "link_expired"

    revoked = token_for(ctx, "GNV-004")
    revoke_links(ctx, participant(ctx, "GNV-004"), "phone lost")
    ctx.session.commit()
    assert client.open_session(revoked).status_code == 401


def test_a_session_ends_when_its_link_is_revoked_or_expires(app, demo, ctx_factory, clock):
    ctx = ctx_factory()
    client = ParticipantClient(app.test_client())
    assert client.open_session(token_for(ctx, "GNV-004")).status_code == 200
    revoke_links(ctx, participant(ctx, "GNV-004"), "phone lost")
    ctx.session.commit()
    gone = client.get("/api/v1/p/home")
    assert gone.status_code == 401
    assert gone.json["errors"]["state"] == "link_expired"

    assert client.open_session(token_for(ctx, "GNV-004")).status_code == 200
    clock.advance(timedelta(days=61))
    assert client.get("/api/v1/p/home").json["errors"]["state"] == "link_expired"
    no_session = ParticipantClient(app.test_client()).get("/api/v1/p/home")
    assert no_session.status_code == 401
    assert no_session.json["errors"]["state"] == "no_session"


def test_a_withdrawn_participant_s_link_no_longer_works(app, demo, ctx_factory):
    ctx = ctx_factory()
    token = token_for(ctx, "GNV-004")
    client = ParticipantClient(app.test_client())
    assert client.open_session(token).status_code == 200
    participants.withdraw(ctx, participant(ctx, "GNV-004"), "moved away")
    ctx.session.commit()
    assert client.get("/api/v1/p/home").status_code == 401
    assert ParticipantClient(app.test_client()).open_session(token).status_code == 401


def test_failed_attempts_are_rate_limited_per_address(app, demo, ctx_factory):
    ctx = ctx_factory()
    client = ParticipantClient(app.test_client())
    for _ in range(3):  # successes do not count
        assert client.open_session(token_for(ctx, "GNV-004")).status_code == 200
    for n in range(5):
        assert client.open_session(f"wrong-token-{n:012d}").status_code == 401
    limited = client.open_session(token_for(ctx, "GNV-004"))
    assert limited.status_code == 429
    assert "Too many attempts" in limited.json["message"]
    assert client.get("/api/v1/p/session").status_code == 200  # reading is not limited


def test_state_changing_calls_need_the_csrf_token(app, demo, ctx_factory):
    client = app.test_client()
    token = token_for(ctx_factory(), "GNV-004")
    refused = client.post("/api/v1/p/session", json={"token": token})
    assert refused.status_code == 400
    assert "CSRF" in refused.json["message"]
    signed_in = ParticipantClient(client)
    assert signed_in.open_session(token).status_code == 200
    draft = client.patch("/api/v1/p/assessments/1/draft",
                         json={"instrument": "pain_nrs", "answers": {}, "language": "en"})
    assert draft.status_code == 400


def test_signing_out_ends_the_session(signed_in):
    client = signed_in("GNV-004")
    assert client.delete("/api/v1/p/session").status_code == 204
    assert client.get("/api/v1/p/home").status_code == 401


def test_the_link_lifetime_and_the_grace_period_come_from_the_environment(
        tmp_path, settings, clock, engine, demo, ctx_factory):
    from pro_server import create_app

    loaded = load_settings({"PRO_INSTANCE_PATH": str(tmp_path),
                            "PARTICIPANT_LINK_TTL_DAYS": "7", "SUBMIT_GRACE_HOURS": "2"})
    assert (loaded.participant_link_ttl_days, loaded.submit_grace_hours) == (7, 2)
    short = replace(settings, participant_link_ttl_days=7, submit_grace_hours=2)
    app = create_app(short, clock=clock, engine=engine)
    ctx = replace(ctx_factory(), settings=short)
    a = assessment(ctx, "GNV-004", "BASELINE")
    link = issue_link(ctx, participant(ctx, "GNV-004"))
    ctx.session.commit()
    client = ParticipantClient(app.test_client())
    assert client.open_session(link.split("#", 1)[1]).status_code == 200
    assert client.patch(f"/api/v1/p/assessments/{a.id}/draft", json={
        "instrument": "pain_nrs", "answers": {"pain_nrs": 2}, "language": "en"}).status_code == 200
    finish_by = client.get("/api/v1/p/home").json["due"][0]["finish_by"]["at"]
    assert finish_by == (a.window_end + timedelta(hours=2)).isoformat()

    clock.advance(timedelta(days=7))  # the 7-day link has expired
    expired = client.get("/api/v1/p/home")
    assert expired.status_code == 401
    assert expired.json["errors"]["state"] == "link_expired"

    clock.set(a.window_end + timedelta(hours=2))  # the 2-hour grace period is over
    link = issue_link(ctx, participant(ctx, "GNV-004"))
    ctx.session.commit()
    assert client.open_session(link.split("#", 1)[1]).status_code == 200
    assert client.get(f"/api/v1/p/assessments/{a.id}").json["state"] == "closed"


def test_a_draft_save_checks_the_session_before_reading_what_was_sent(
        app, demo, ctx_factory):
    """A draft save checks the session with the survey it saves to (one statement): a
    session that no longer stands is 401 before the body is judged, and nothing is saved."""
    ctx = ctx_factory()
    a = assessment(ctx, "GNV-004", "BASELINE")
    ctx.session.commit()
    client = ParticipantClient(app.test_client())
    assert client.open_session(token_for(ctx, "GNV-004")).status_code == 200
    revoke_links(ctx, participant(ctx, "GNV-004"), "phone lost")
    ctx.session.commit()
    url = f"/api/v1/p/assessments/{a.id}/draft"
    gone = client.patch(url, json={"answers": "not an object"})
    assert gone.status_code == 401, gone.json
    assert gone.json["errors"]["state"] == "link_expired"
    ended = client.patch(url, json={"instrument": a.instruments[0], "answers": {},
                                    "language": "en"})
    assert ended.status_code == 401  # the session ended with the first refusal
    assert ended.json["errors"]["state"] == "no_session"
    ctx.session.expire_all()
    assert ctx.session.get(type(a), a.id).started_at is None
