"""EDC clients: created by an admin (API and CLI), secret shown once and hashed, study
isolation, scopes, rotation, revocation, and an audit event for every pull."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from pro_server.audit.models import AuditEvent
from pro_server.edc import services
from pro_server.edc.models import EdcClient

BASE = "/api/v1/edc/studies"


def _pull(client, token, study="RES001-DMPM-02", path="/records"):
    response = client.get(f"{BASE}/{study}{path}", headers={"Authorization": f"Bearer {token}"})
    response.get_data()  # a streamed body holds its read transaction until it is consumed
    return response


def test_a_client_of_one_study_gets_404_for_another(edc, client):
    assert _pull(client, edc.tokens["other"]).status_code == 404
    assert _pull(client, edc.token, study="OTHER-01").status_code == 404
    assert _pull(client, edc.token, study="NO-SUCH").status_code == 404
    assert _pull(client, edc.tokens["other"], study="OTHER-01").status_code == 200


def test_missing_or_wrong_tokens_get_401(edc, client):
    assert client.get(f"{BASE}/RES001-DMPM-02/records").status_code == 401
    wrong = edc.token[:-4] + "AAAA"
    assert _pull(client, wrong).status_code == 401
    assert _pull(client, "not-a-token").status_code == 401


def test_scopes_limit_what_a_client_pulls(edc, client):
    adherence = edc.tokens["adherence"]
    assert _pull(client, adherence).status_code == 403
    assert _pull(client, adherence, path="/adherence.csv").status_code == 200
    assert _pull(client, edc.tokens["scores"], path="/adherence.csv").status_code == 403


def test_admin_creates_rotates_and_revokes_clients_through_the_api(edc, client,
                                                                   staff_client, ctx_factory):
    admin = staff_client("admin@example.org")
    created = admin.post("/api/v1/edc/clients", json={
        "study_code": "RES001-DMPM-02", "name": "Rave", "scopes": ["scores"]})
    assert created.status_code == 201, created.json
    token = created.json["token"]
    assert _pull(client, token).status_code == 200
    stored = ctx_factory().session.get(EdcClient, created.json["id"])
    secret = token.split(".", 1)[1]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(admin.get("/api/v1/edc/clients").json)

    rotated = admin.post(f"/api/v1/edc/clients/{created.json['id']}/rotate")
    assert rotated.status_code == 200
    assert _pull(client, token).status_code == 401
    assert _pull(client, rotated.json["token"]).status_code == 200

    revoked = admin.post(f"/api/v1/edc/clients/{created.json['id']}/revoke",
                         json={"reason": "Contract ended"})
    assert revoked.status_code == 200
    assert _pull(client, rotated.json["token"]).status_code == 401
    actions = list(ctx_factory().session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "edc_client",
        AuditEvent.entity_id == str(created.json["id"])).order_by(AuditEvent.id)))
    assert actions[:1] == ["edc_client.create"]
    assert {"edc_client.rotate", "edc_client.revoke", "edc.pull"} <= set(actions)


def test_only_admins_manage_clients(edc, staff_client):
    coordinator = staff_client("coordinator.gnv@example.org")
    response = coordinator.post("/api/v1/edc/clients", json={
        "study_code": "RES001-DMPM-02", "name": "Rave", "scopes": ["scores"]})
    assert response.status_code == 403


def test_the_cli_creates_a_client_and_prints_the_token_once(edc, app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pro", "edc-client", "create", "--study", "RES001-DMPM-02",
                                 "--name", "OpenClinica", "--scope", "scores",
                                 "--scope", "responses"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pro_edc_")
    assert _pull(client, token).status_code == 200
    listed = runner.invoke(args=["pro", "edc-client", "list"])
    assert "OpenClinica" in listed.output
    assert token.split(".")[1] not in listed.output
    client_id = next(line.split("\t")[0] for line in listed.output.splitlines()
                     if "OpenClinica" in line)
    revoked = runner.invoke(args=["pro", "edc-client", "revoke", client_id,
                                  "--reason", "test"])
    assert revoked.exit_code == 0, revoked.output
    assert _pull(client, token).status_code == 401


def test_every_pull_is_audited_with_client_export_and_range(edc, client, ctx_factory):
    _pull(client, edc.token, path="/records?limit=5")
    _pull(client, edc.token, path="/sdtm/qs.csv")
    events = list(ctx_factory().session.scalars(
        select(AuditEvent).where(AuditEvent.action == "edc.pull").order_by(AuditEvent.id)))
    assert [e.after["export"] for e in events] == ["records", "sdtm/qs.csv"]
    assert events[0].actor_type == "edc_client"
    assert events[0].after["since_seq"] == 0
    assert events[0].after["count"] == 5
    assert events[0].after["until_seq"] > 0
    assert events[1].after["as_of_seq"] > 0


def test_a_pull_whose_audit_write_meets_a_locked_sqlite_is_retried_and_audited_once(
        edc, client, ctx_factory, monkeypatch, database):
    if database.backend != "sqlite":
        pytest.skip("only SQLite refuses a read transaction's upgrade to a write at once")
    real, refusals = services.audit_pull, []

    def locked_twice(*args, **kwargs):  # what SQLite says while another writer commits
        if len(refusals) < 2:
            refusals.append(1)
            raise OperationalError("INSERT INTO audit_event", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "audit_pull", locked_twice)
    assert _pull(client, edc.token, path="/records?limit=5").status_code == 200
    events = list(ctx_factory().session.scalars(
        select(AuditEvent).where(AuditEvent.action == "edc.pull").order_by(AuditEvent.id)))
    assert len(refusals) == 2
    assert [e.after["export"] for e in events] == ["records"]
