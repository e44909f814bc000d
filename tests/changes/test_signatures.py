"""Deciding a data change is an electronic signature (21 CFR 11.50 / 11.200): the decider
re-enters the password (and code when a second factor is set up) with the meaning shown,
and the audit trail keeps the printed name, the date and time, and the meaning."""

import pyotp
from sqlalchemy import select

from pro_server.audit.models import AuditEvent
from pro_server.changes.models import ChangeRequest
from tests.changes.test_change_requests import GNV, INVESTIGATOR, ask, current

APPROVE = "I approve this data change"


def _approve(client, change_id, **signature):
    body = {"signature": signature} if signature else {}
    return client.post(f"/api/v1/change-requests/{change_id}/approve", json=body)


def _events(ctx_factory, action):
    return ctx_factory().session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _status(ctx_factory, change_id):
    return ctx_factory().session.get(ChangeRequest, change_id).status


def test_approving_without_re_authentication_is_refused(story, ctx_factory):
    asked = ask(story.client(GNV), current(ctx_factory, story)).json
    investigator = story.client(INVESTIGATOR)

    unsigned = _approve(investigator, asked["id"])
    assert unsigned.status_code == 401
    assert APPROVE in unsigned.json["message"]
    wrong = _approve(investigator, asked["id"], password="not-my-password", meaning=APPROVE)
    assert wrong.status_code == 401

    assert _status(ctx_factory, asked["id"]) == "pending"
    (failed,) = _events(ctx_factory, "esignature.failed")
    assert failed.after["meaning"] == APPROVE
    assert failed.after["problem"] == "wrong password"


def test_a_signed_approval_records_name_time_and_meaning(story, ctx_factory, clock):
    asked = ask(story.client(GNV), current(ctx_factory, story)).json
    investigator = story.client(INVESTIGATOR)

    other_meaning = _approve(investigator, asked["id"], password=story.passwords[INVESTIGATOR],
                             meaning="OK")
    assert other_meaning.status_code == 422
    approved = _approve(investigator, asked["id"], password=story.passwords[INVESTIGATOR],
                        meaning=APPROVE)

    assert approved.status_code == 200, approved.json
    (event,) = _events(ctx_factory, "change_request.approve")
    assert event.after["signature"] == {
        "name": "Ines Investigator", "email": INVESTIGATOR,
        "signed_at": clock.now().isoformat(), "meaning": APPROVE, "method": "password"}
    assert event.actor_label == "investigator@example.org (investigator)"


def test_a_rejection_is_signed_with_its_own_meaning(story, ctx_factory):
    asked = ask(story.client(GNV), current(ctx_factory, story)).json
    rejected = story.client(INVESTIGATOR).post(
        f"/api/v1/change-requests/{asked['id']}/reject",
        json={"reason": "The answer matches the source", "signature": {
            "password": story.passwords[INVESTIGATOR], "meaning": "I reject this data change"}})
    assert rejected.status_code == 200, rejected.json
    (event,) = _events(ctx_factory, "change_request.reject")
    assert event.after["signature"]["meaning"] == "I reject this data change"


def test_with_a_second_factor_the_signature_needs_the_code_too(story, ctx_factory, clock):
    investigator = story.client(INVESTIGATOR)
    setup = investigator.post("/api/v1/auth/totp")
    assert setup.status_code == 201, setup.json
    assert setup.json["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(setup.json["secret"])
    assert investigator.post("/api/v1/auth/totp/confirm",
                             json={"code": totp.at(clock.now())}).status_code == 204
    asked = ask(story.client(GNV), current(ctx_factory, story)).json
    password = story.passwords[INVESTIGATOR]

    assert _approve(investigator, asked["id"], password=password,
                    meaning=APPROVE).status_code == 401
    # the code already used to confirm is not accepted a second time
    assert _approve(investigator, asked["id"], password=password, meaning=APPROVE,
                    code=totp.at(clock.now())).status_code == 401
    assert _status(ctx_factory, asked["id"]) == "pending"
    approved = _approve(investigator, asked["id"], password=password, meaning=APPROVE,
                        code=totp.at(clock.now(), counter_offset=1))
    assert approved.status_code == 200, approved.json
    (event,) = _events(ctx_factory, "change_request.approve")
    assert event.after["signature"]["method"] == "password+totp"
