"""The instruments API: definitions in a language, stateless scoring, language approvals."""

import pytest
from sqlalchemy import text

HAQ_ITEMS = (
    "dress shampoo stand_up in_out_bed cut_meat lift_cup open_carton walk_outdoors climb_steps "
    "wash_body tub_bath toilet reach_object bend_down car_doors open_jars faucets errands "
    "in_out_car chores"
).split()
HAQ_ALL_ONES = dict.fromkeys(HAQ_ITEMS, 1)


def test_list_names_every_instrument_with_language_status(staff_client):
    rows = staff_client("monitor@example.org").get("/api/v1/instruments").json
    assert {r["code"] for r in rows} == {"pain_nrs", "ptga_vas", "haq_di", "rand36", "promis_gh"}
    haq = next(r for r in rows if r["code"] == "haq_di")
    assert haq["languages"]["en"]["validated"] is True
    assert haq["languages"]["es"]["validated"] is False


def test_spanish_haq_definition_carries_its_validation_status(staff_client):
    body = staff_client("monitor@example.org").get("/api/v1/instruments/haq_di?lang=es").json
    assert body["language"] == "es"
    assert body["validated"] is False
    assert body["language_source"]
    assert [i["id"] for i in body["items"]][:3] == ["dress", "shampoo", "stand_up"]
    assert "vestirse" in body["items"][0]["text"].lower()
    assert "Esteve-Vives" in body["languages"]["es"]["source"]
    assert "Fries JF" in body["source"]["citation"]
    assert "Stanford" in body["licence"]
    assert body["scoring"]["params"]["min_categories_answered"] == 6


def test_unknown_instrument_and_language_are_4xx(staff_client):
    client = staff_client("monitor@example.org")
    assert client.get("/api/v1/instruments/sf36").status_code == 404
    response = client.get("/api/v1/instruments/haq_di?lang=fr")
    assert response.status_code == 422
    assert "lang" in response.json["errors"]["query"]


def test_score_haq_with_aids_raising_a_category(staff_client):
    # Every ability item 1 -> each category 1; a cane raises walking to 2:
    # (1+1+1+2+1+1+1+1) / 8 = 9/8 = 1.125; without aids 8/8 = 1.000
    client = staff_client("coordinator.gnv@example.org")
    answers = {**HAQ_ALL_ONES, "aids_p1": ["cane"]}
    body = client.post("/api/v1/instruments/haq_di/score", json={"answers": answers}).json
    assert body["scores"]["haq_di"]["value"] == 1.125
    assert body["scores"]["haq_di_without_aids"]["value"] == 1.0
    assert body["scores"]["walking"]["value"] == 2
    assert body["algorithm_version"]


def test_score_reports_absent_scores_with_a_reason(staff_client):
    client = staff_client("coordinator.gnv@example.org")
    body = client.post("/api/v1/instruments/promis_gh/score",
                       json={"answers": {"global03": 4}}).json
    assert body["scores"]["gph_t"]["value"] is None
    assert body["scores"]["gph_t"]["reason"] == "item_missing"


def test_score_out_of_range_is_422_per_item_and_stores_nothing(app, staff_client):
    client = staff_client("coordinator.gnv@example.org")
    with app.extensions["pro"]["engine"].connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
    response = client.post("/api/v1/instruments/pain_nrs/score",
                           json={"answers": {"pain_nrs": 11}})
    assert response.status_code == 422
    assert "pain_nrs" in response.json["errors"]["json"]["answers"]
    unknown = client.post("/api/v1/instruments/pain_nrs/score", json={"answers": {"zzz": 1}})
    assert "zzz" in unknown.json["errors"]["json"]["answers"]
    with app.extensions["pro"]["engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == before


def test_scoring_needs_authentication(app, demo):
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    response = client.post("/api/v1/instruments/pain_nrs/score", json={"answers": {}},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 401


def test_an_edc_client_can_score_with_its_bearer_token_and_no_csrf(app, demo, ctx_factory):
    """Any EDC client of any scope may check a score; a revoked or unknown token may not."""
    from pro_server.edc.services import create_client, revoke_client
    from pro_server.studies.services import get_study

    ctx = ctx_factory()
    edc_client, token = create_client(ctx, get_study(ctx.session, "RES001-DMPM-02"),
                                      "score checker", ["adherence"])
    ctx.session.commit()
    client = app.test_client()  # no session cookie, no CSRF token
    url = "/api/v1/instruments/ptga_vas/score"
    response = client.post(url, json={"answers": {"ptga_vas": 47}},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    assert response.json["scores"]["ptga_cm"]["value_text"] == "4.7"  # 47 mm / 10
    listed = client.get("/api/v1/instruments", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    bad = client.post(url, json={"answers": {"ptga_vas": 101}},
                      headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 422
    assert bad.json["errors"]["json"]["answers"] == {"ptga_vas": ["101 is outside 0-100 mm"]}

    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for unknown in (wrong, "not-an-edc-token"):
        response = client.post(url, json={"answers": {}},
                               headers={"Authorization": f"Bearer {unknown}"})
        assert response.status_code == 401
    revoke_client(ctx, edc_client, "test")
    ctx.session.commit()
    response = client.post(url, json={"answers": {}}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.fixture
def study_without_spanish(ctx_factory, demo):
    """A second study, with no Spanish approval."""
    from pro_server.studies.services import create_site, create_study

    ctx = ctx_factory()
    study = create_study(ctx, code="RES001-DMPM-02X", name="copy", registry_id=None,
                         default_timezone="America/New_York", program_name="Study Check-in",
                         protocol_code="RES001-DMPM-02")
    create_site(ctx, study, code="TPA", name="Tampa", timezone="America/New_York")
    ctx.session.commit()
    return study


def test_unvalidated_language_needs_an_audited_admin_override(app, staff_client, demo,
                                                              study_without_spanish, ctx_factory):
    from pro_server.staff.models import Role
    from pro_server.staff.services import create_staff_user
    from pro_server.studies.models import Site

    ctx = ctx_factory()
    tpa = ctx.session.query(Site).filter_by(code="TPA").one()
    create_staff_user(ctx, email="coord.tpa@example.org", name="T", password="tampa-password-1",
                      role=Role.coordinator, sites=[tpa])
    ctx.session.commit()
    from tests.helpers import StaffClient

    coordinator = StaffClient.login(app.test_client(), "coord.tpa@example.org", "tampa-password-1")
    body = {"subject_key": "TPA-001", "site_code": "TPA", "study_code": "RES001-DMPM-02X",
            "language": "es", "timezone": "America/New_York"}
    refused = coordinator.post("/api/v1/participants", json=body)
    assert refused.status_code == 422
    assert "not validated" in refused.json["errors"]["json"]["language"][0]
    admin = staff_client("admin@example.org")
    assert coordinator.post("/api/v1/studies/RES001-DMPM-02X/languages", json={
        "language": "es", "reason": "Sponsor accepts our translation"}).status_code == 403
    approved = admin.post("/api/v1/studies/RES001-DMPM-02X/languages", json={
        "language": "es", "reason": "Sponsor accepts our translation until validated"})
    assert approved.status_code == 201
    assert "haq_di" in approved.json["unvalidated_instruments"]
    assert coordinator.post("/api/v1/participants", json=body).status_code == 201
    with app.extensions["pro"]["engine"].connect() as conn:
        row = conn.execute(text("SELECT actor_label, reason FROM audit_event "
                                "WHERE action = 'study.language_approve' ORDER BY id DESC")
                           ).first()
    assert row.actor_label == "admin@example.org (admin)"
    assert row.reason == "Sponsor accepts our translation until validated"
