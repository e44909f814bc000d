"""Users and sites for admins: create, change, deactivate; each change audited."""

from sqlalchemy import select

from pro_server.audit.models import AuditEvent

ADMIN = "admin@example.org"


def test_an_admin_adds_a_coordinator_who_can_then_sign_in(story, app):
    admin = story.client(ADMIN)
    created = admin.post("/api/v1/admin/users", json={
        "email": "New.Coordinator@example.org", "name": "Nora New", "role": "coordinator",
        "password": "a-long-initial-password", "site_codes": ["MIA"]})
    assert created.status_code == 201, created.json
    assert created.json["email"] == "new.coordinator@example.org"
    assert [s["code"] for s in created.json["sites"]] == ["MIA"]
    assert "password" not in created.json
    from tests.helpers import StaffClient
    nora = StaffClient.login(app.test_client(), "new.coordinator@example.org",
                             "a-long-initial-password")
    grid = nora.get("/api/v1/dashboard/grid").json
    assert {r["site_code"] for r in grid["rows"]} == {"MIA"}


def test_changing_role_and_sites_and_deactivating_ends_access(story, ctx_factory):
    admin = story.client(ADMIN)
    gina = story.client("coordinator.gnv@example.org")
    users = {u["email"]: u for u in admin.get("/api/v1/admin/users").json}
    gina_id = users["coordinator.gnv@example.org"]["id"]
    changed = admin.patch(f"/api/v1/admin/users/{gina_id}", json={
        "role": "investigator", "site_codes": ["GNV", "MIA"], "reason": "Sub-investigator now"})
    assert changed.status_code == 200, changed.json
    assert changed.json["role"] == "investigator"
    assert {r["site_code"] for r in gina.get("/api/v1/dashboard/grid").json["rows"]} == {
        "GNV", "MIA"}
    off = admin.patch(f"/api/v1/admin/users/{gina_id}", json={"active": False,
                                                               "reason": "Left the study"})
    assert off.json["active"] is False
    assert gina.get("/api/v1/dashboard/grid").status_code == 401
    session = ctx_factory().session
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "staff_user", AuditEvent.entity_id == str(gina_id))).all()
    assert actions.count("staff.update") == 2


def test_rules_for_users(story):
    admin = story.client(ADMIN)
    users = {u["email"]: u for u in admin.get("/api/v1/admin/users").json}
    me = users[ADMIN]["id"]
    assert admin.patch(f"/api/v1/admin/users/{me}", json={"active": False}).status_code == 409
    coordinator = users["coordinator.mia@example.org"]["id"]
    no_site = admin.patch(f"/api/v1/admin/users/{coordinator}", json={"site_codes": []})
    assert no_site.status_code == 422
    duplicate = admin.post("/api/v1/admin/users", json={
        "email": "monitor@example.org", "name": "Twin", "role": "monitor",
        "password": "another-long-password"})
    assert duplicate.status_code == 409
    unknown_site = admin.post("/api/v1/admin/users", json={
        "email": "x@example.org", "name": "X", "role": "coordinator",
        "password": "another-long-password", "site_codes": ["TPA"]})
    assert unknown_site.status_code == 422


def test_sites_are_added_and_changed(story):
    admin = story.client(ADMIN)
    added = admin.post("/api/v1/admin/sites", json={
        "code": "TPA", "name": "Tampa", "timezone": "America/New_York",
        "contact_phone": "+18135550100"})
    assert added.status_code == 201, added.json
    assert added.json["study_code"] == "RES001-DMPM-02"
    again = admin.post("/api/v1/admin/sites", json={
        "code": "TPA", "name": "Tampa 2", "timezone": "America/New_York"})
    assert again.status_code == 409
    changed = admin.patch(f"/api/v1/admin/sites/{added.json['id']}", json={
        "name": "Tampa General", "reason": "Official name"})
    assert changed.json["name"] == "Tampa General"
    bad = admin.patch(f"/api/v1/admin/sites/{added.json['id']}", json={"timezone": "Mars/Base"})
    assert bad.status_code == 422
    assert [s["code"] for s in admin.get("/api/v1/admin/sites").json] == ["GNV", "MIA", "TPA"]


def test_only_admins_administer(story):
    for email in ("coordinator.gnv@example.org", "investigator@example.org",
                  "monitor@example.org"):
        client = story.client(email)
        assert client.get("/api/v1/admin/users").status_code == 403
        assert client.post("/api/v1/admin/sites", json={
            "code": "X", "name": "X", "timezone": "UTC"}).status_code == 403
