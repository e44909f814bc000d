"""Rotating the data keys keeps inbound SMS matched; `pro rekey` moves everything to the
newest key, resumably; the unmatched replies are listed for someone who can act on them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Text, select, type_coerce

from pro_server import create_app
from pro_server.audit.models import AuditEvent
from pro_server.context import Actor, ServiceContext
from pro_server.crypto import Keyring
from pro_server.messaging.webhooks import INBOUND_PATH
from pro_server.participants.models import Participant
from pro_server.rekey import rekey
from tests.messaging.support import MESSAGING_SERVICE_SID, SERVICE_NUMBER

NEW_KEY = Fernet.generate_key().decode()
PHONE = "+13525550151"


def _app_with(settings, clock, engine, **changes):
    app = create_app(replace(settings, **changes), clock=clock, engine=engine)
    app.config["TESTING"] = True
    return app


def _text(app, fake_twilio, phone: str, body: str) -> None:
    """The participant texts the service, which now runs as `app`."""
    request = fake_twilio.build_inbound(
        phone, body, SERVICE_NUMBER, app.extensions["pro"]["settings"].public_base_url
        + INBOUND_PATH, messaging_service_sid=MESSAGING_SERVICE_SID)
    response = app.test_client().post(INBOUND_PATH, data=request.params,
                                      headers=request.headers)
    assert response.status_code == 200


def _participant(app, pid: int) -> Participant:
    with app.extensions["pro"]["session_factory"]() as session:
        return session.get(Participant, pid)


def _contexts(app):
    pro = app.extensions["pro"]
    return lambda: ServiceContext.of_app(pro, Actor.system("test:rekey"))


def test_after_key_rotation_stop_from_an_earlier_participant_still_opts_out(
        world, settings, clock, engine, fake_twilio):
    pid = world.enrol("GNV-301", PHONE)
    rotated = _app_with(settings, clock, engine, data_keys=(NEW_KEY, *settings.data_keys))

    _text(rotated, fake_twilio, PHONE, "STOP")

    assert _participant(rotated, pid).sms_opted_out_at == clock.now()


def _raw_phones(app) -> dict[int, tuple[str, str]]:
    with app.extensions["pro"]["session_factory"]() as session:
        rows = session.execute(select(Participant.id, type_coerce(Participant.phone, Text),
                                      Participant.phone_lookup)
                               .where(Participant.phone.is_not(None)))
        return {pid: (token, lookup) for pid, token, lookup in rows}


def test_rekey_interrupted_half_way_then_resumed_leaves_every_phone_readable_and_matched(
        world, settings, clock, engine, fake_twilio):
    for n in range(5):
        world.enrol(f"GNV-31{n}", f"+135255501{60 + n}")
    new_lookup = "a-new-phone-lookup-key-after-rotation-0123456789"
    rotated = _app_with(settings, clock, engine, data_keys=(NEW_KEY, *settings.data_keys),
                        phone_lookup_key=new_lookup)
    before = _raw_phones(rotated)
    assert len(before) >= 6

    class Killed(Exception):
        pass

    def kill_after_first_batch(report) -> None:  # type: ignore[no-untyped-def]
        if report.tables[-1] == "participant":
            raise Killed

    with pytest.raises(Killed):
        rekey(_contexts(rotated), batch_size=3, after_batch=kill_after_first_batch)

    newest_only = Keyring((NEW_KEY,), new_lookup)
    half = _raw_phones(rotated)
    moved = [pid for pid, (token, _) in half.items() if newest_only.is_current(token)]
    assert 0 < len(moved) < len(half)  # really interrupted half-way
    with rotated.extensions["pro"]["session_factory"]() as session:  # all readable meanwhile
        assert all(p.phone for p in session.scalars(
            select(Participant).where(Participant.phone.is_not(None))))

    report = rekey(_contexts(rotated), batch_size=3)

    assert report.values_reencrypted >= len(half) - len(moved)
    for token, lookup in _raw_phones(rotated).values():
        assert lookup == newest_only.lookup_hash(newest_only.decrypt(token))
    # The old key can now be dropped: phones decrypt and replies still match.
    final = _app_with(settings, clock, engine, data_keys=(NEW_KEY,), phone_lookup_key=new_lookup)
    pid = max(half)  # enrolled above, moved by the resumed run
    assert pid not in moved
    phone = _participant(final, pid).phone
    _text(final, fake_twilio, phone, "STOP")
    assert _participant(final, pid).sms_opted_out_at == clock.now()
    with final.extensions["pro"]["session_factory"]() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("crypto.rekey%"))))
    assert "crypto.rekey" in actions
    assert actions.count("crypto.rekey_batch") >= 2


def test_two_apps_with_different_keys_do_not_see_each_others_keys(
        world, settings, clock, engine, tmp_path):
    from pro_server.db import make_engine

    pid = world.enrol("GNV-321", PHONE)
    other_engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other = _app_with(settings, clock, other_engine,
                          data_keys=(Fernet.generate_key().decode(),),
                          phone_lookup_key="another-apps-phone-lookup-key-0123456789")

        assert _participant(world.app, pid).phone == PHONE  # the first app still reads its data
        first = world.app.extensions["pro"]["settings"].keyring
        second = other.extensions["pro"]["settings"].keyring
        assert first.lookup_hash(PHONE) != second.lookup_hash(PHONE)
    finally:
        other_engine.dispose()


def test_a_reply_from_an_unknown_number_is_listed_for_an_admin_to_act_on(
        world, staff_client, gnv):
    assert world.reply("+13525550188", "This is Pat, new phone, please use this one"
                       ).status_code == 200
    admin = staff_client("admin@example.org")

    listed = admin.get("/api/v1/inbound-messages/unmatched?needs_review=true")

    assert listed.status_code == 200, listed.json
    (item,) = listed.json
    assert item["body"] == "This is Pat, new phone, please use this one"
    assert item["from_masked"].endswith("0188")
    assert "+13525550188" not in str(listed.json)
    assert gnv.get("/api/v1/inbound-messages/unmatched").status_code == 403
    resolved = admin.post(f"/api/v1/inbound-messages/unmatched/{item['id']}/resolve",
                          json={"reason": "Site GNV told; they update Pat's number",
                                "apply_opt_out": False})
    assert resolved.status_code == 200, resolved.json
    assert admin.get("/api/v1/inbound-messages/unmatched?needs_review=true").json == []


def test_pro_rekey_from_the_command_line(world, settings, clock, engine):
    world.enrol("GNV-331", PHONE)
    rotated = _app_with(settings, clock, engine, data_keys=(NEW_KEY, *settings.data_keys))

    result = rotated.test_cli_runner().invoke(args=["pro", "rekey", "--batch-size", "50"])

    assert result.exit_code == 0, result.output
    assert "rekey done" in result.output
    again = rotated.test_cli_runner().invoke(args=["pro", "rekey"])
    assert "0 values re-encrypted, 0 lookups rebuilt" in again.output  # nothing left to do


def test_pro_rekey_names_a_value_whose_key_was_dropped_too_early(world, settings, clock,
                                                                  engine):
    world.enrol("GNV-341", PHONE)
    dropped = _app_with(settings, clock, engine, data_keys=(NEW_KEY,))

    result = dropped.test_cli_runner().invoke(args=["pro", "rekey"])

    assert result.exit_code == 1
    assert "encrypted with a key not in PRO_DATA_KEYS; put the old key back" in result.output
