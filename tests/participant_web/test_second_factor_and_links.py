"""Staff issue and revoke links, set a participant's second factor; a study can require one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.participant_web.models import ParticipantSecret
from pro_server.participants.models import ParticipantLink
from tests.participant_web.support import ParticipantClient, participant


def _events(ctx, action):  # type: ignore[no-untyped-def]
    ctx.session.commit()
    return ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()


def test_staff_reissue_a_link_shown_once_and_revoke_links(app, staff_client, ctx_factory):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    staff = staff_client("coordinator.gnv@example.org")
    first = staff.post(f"/api/v1/participants/{p.id}/link", json={})
    assert first.status_code == 201
    url = first.json["url"]
    assert url.startswith("http://127.0.0.1:5000/p#")
    assert len(url.split("#")[1]) >= 22
    assert first.json["links_revoked"] == 0
    second = staff.post(f"/api/v1/participants/{p.id}/link",
                        json={"revoke_others": True, "reason": "new phone"})
    assert second.json["links_revoked"] == 1
    client = ParticipantClient(app.test_client())
    assert client.open_session(url.split("#")[1]).status_code == 401
    assert client.open_session(second.json["url"].split("#")[1]).status_code == 200
    assert len(_events(ctx, "participant.link_issue")) == 2
    assert url not in str([e.after for e in _events(ctx, "participant.link_issue")])

    no_reason = staff.post(f"/api/v1/participants/{p.id}/link/revoke", json={})
    assert no_reason.status_code == 422
    revoked = staff.post(f"/api/v1/participants/{p.id}/link/revoke",
                         json={"reason": "participant asked"})
    assert revoked.json == {"links_revoked": 1}
    assert client.get("/api/v1/p/home").status_code == 401
    assert _events(ctx, "participant.link_revoke")[-1].reason == "participant asked"
    assert ctx.session.scalar(select(ParticipantLink).where(
        ParticipantLink.revoked_at.is_(None), ParticipantLink.participant_id == p.id)) is None


def test_link_endpoints_follow_the_access_rules(staff_client, ctx_factory):
    ctx = ctx_factory()
    gnv, withdrawn = participant(ctx, "GNV-004"), participant(ctx, "GNV-006")
    other_site = staff_client("coordinator.mia@example.org")
    assert other_site.post(f"/api/v1/participants/{gnv.id}/link", json={}).status_code == 404
    monitor = staff_client("monitor@example.org")
    assert monitor.post(f"/api/v1/participants/{gnv.id}/link", json={}).status_code == 403
    assert monitor.put(f"/api/v1/participants/{gnv.id}/second-factor",
                       json={"kind": "pin", "value": "4821"}).status_code == 403
    coordinator = staff_client("coordinator.gnv@example.org")
    assert coordinator.post(f"/api/v1/participants/{withdrawn.id}/link",
                            json={}).status_code == 409
    assert coordinator.put("/api/v1/studies/RES001-DMPM-02/participant-web",
                           json={"second_factor": "pin"}).status_code == 403


def test_a_study_can_require_a_birth_year(app, staff_client, ctx_factory):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    admin = staff_client("admin@example.org")
    setting = admin.put("/api/v1/studies/RES001-DMPM-02/participant-web",
                        json={"second_factor": "birth_year"})
    assert setting.json == {"second_factor": "birth_year"}
    coordinator = staff_client("coordinator.gnv@example.org")
    token = coordinator.post(f"/api/v1/participants/{p.id}/link", json={}).json["url"][-22:]
    client = ParticipantClient(app.test_client())
    not_set = client.open_session(token)
    assert not_set.status_code == 401
    assert not_set.json["errors"]["state"] == "second_factor_not_set"

    bad = coordinator.put(f"/api/v1/participants/{p.id}/second-factor",
                          json={"kind": "birth_year", "value": "61"})
    assert bad.status_code == 422
    done = coordinator.put(f"/api/v1/participants/{p.id}/second-factor",
                           json={"kind": "birth_year", "value": "1961"})
    assert done.json == {"kind": "birth_year", "study_requires": "birth_year"}
    ctx.session.commit()
    stored = ctx.session.scalar(select(ParticipantSecret))
    assert "1961" not in stored.secret_hash
    assert stored.secret_hash.startswith("$argon2id$")
    assert "1961" not in str([e.after for e in _events(ctx, "participant.second_factor_set")])
    assert coordinator.get(f"/api/v1/participants/{p.id}/second-factor").json == {
        "kind": "birth_year", "study_requires": "birth_year"}

    asked = client.open_session(token)
    assert asked.status_code == 401
    assert asked.json["errors"] == {"state": "second_factor_required", "kind": "birth_year",
                                    "language": "en"}
    wrong = client.open_session(token, "1962")
    assert wrong.json["errors"]["state"] == "second_factor_wrong"
    assert len(_events(ctx, "participant.second_factor_fail")) == 1
    assert client.open_session(token, " 1961 ").status_code == 200


def test_wrong_answers_lock_the_factor_whatever_the_address(app, ctx_factory, clock,
                                                             staff_client):
    ctx = ctx_factory()
    p = participant(ctx, "GNV-004")
    staff_client("admin@example.org").put("/api/v1/studies/RES001-DMPM-02/participant-web",
                                          json={"second_factor": "pin"})
    coordinator = staff_client("coordinator.gnv@example.org")
    coordinator.put(f"/api/v1/participants/{p.id}/second-factor",
                    json={"kind": "pin", "value": "4821"})
    token = coordinator.post(f"/api/v1/participants/{p.id}/link", json={}).json["url"][-22:]
    states = []
    for n in range(5):  # each from another address: the per-address limit never triggers
        client = ParticipantClient(app.test_client())
        client.client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        states.append(client.open_session(token, f"{1000 + n}").json["errors"]["state"])
    assert states == ["second_factor_wrong"] * 4 + ["second_factor_locked"]
    client = ParticipantClient(app.test_client())
    client.client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    locked = client.open_session(token, "4821")
    assert locked.status_code == 429
    assert locked.json["errors"]["state"] == "second_factor_locked"
    clock.advance(timedelta(minutes=16))
    assert client.open_session(token, "4821").status_code == 200
