"""The audit trail: every change recorded, append-only, tamper-evident."""

from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pro_server.audit.sealing import seal
from pro_server.audit.services import AuditReasonRequired, record


@pytest.fixture
def tamper(app, database):
    """A connection with the append-only guard switched off, as a DBA could; restored after."""
    engine = app.extensions["pro"]["engine"]

    @contextmanager
    def open_tampering(verb: str):
        with engine.begin() as conn:
            if database.backend == "postgresql":
                conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
            else:
                conn.execute(text(f"DROP TRIGGER audit_event_no_{verb}"))
            yield conn

    yield open_tampering
    if database.backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))


def verify(app, *args: str):
    """(exit code, the chain's line): `pro audit verify` seals first, so no tail is left."""
    code, chain, tail = verify_lines(app, *args)
    assert tail == "unsealed tail: none"
    return code, chain


def verify_lines(app, *args: str) -> tuple[int, str, str]:
    result = app.test_cli_runner().invoke(args=["pro", "audit", "verify", *args])
    chain, tail = result.output.strip().split("\n")
    return result.exit_code, chain, tail


@pytest.fixture
def sealed_demo(app, demo):
    """The demo with its events sealed, as the scheduler leaves it."""
    with app.extensions["pro"]["session_factory"]() as session:
        seal(session, app.extensions["pro"]["events"])
    return demo


def test_chain_is_intact_after_the_demo_and_counts_its_events(app, demo):
    with app.extensions["pro"]["engine"].connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
    assert count >= 20
    assert verify(app) == (0, f"audit chain intact: {count} events checked")


def test_api_change_is_audited_with_actor_reason_before_after_and_request_id(app, staff_client,
                                                                             ids):
    client = staff_client("coordinator.gnv@example.org")
    response = client.post(f"/api/v1/participants/{ids['GNV-002']}/withdraw",
                           json={"reason": "Moved abroad"}, headers={"X-Request-ID": "req-abc-123"})
    assert response.headers["X-Request-ID"] == "req-abc-123"
    with app.extensions["pro"]["engine"].connect() as conn:
        row = conn.execute(text(
            "SELECT actor_type, actor_label, action, entity_type, entity_id, before, after, reason,"
            " request_id FROM audit_event ORDER BY id DESC LIMIT 1")).one()
    assert row.actor_type == "staff"
    assert row.actor_label == "coordinator.gnv@example.org (coordinator)"
    assert (row.action, row.entity_type, row.entity_id) == (
        "participant.withdraw", "participant", str(ids["GNV-002"]))
    assert '"status":"enrolled"' in row.before
    assert '"status":"withdrawn"' in row.after
    assert row.reason == "Moved abroad"
    assert row.request_id == "req-abc-123"
    assert verify(app)[0] == 0


def test_corrections_and_withdrawals_need_a_reason(ctx_factory):
    ctx = ctx_factory()
    with pytest.raises(AuditReasonRequired):
        record(ctx, "infusion.correct", "infusion", 1)
    with pytest.raises(AuditReasonRequired):
        record(ctx, "participant.withdraw", "participant", 1, reason="  ")


def test_altering_a_row_directly_is_reported_by_verify(app, sealed_demo, tamper):
    with tamper("update") as conn:
        target = conn.execute(text("SELECT id FROM audit_event WHERE seq = 7")).scalar()
        conn.execute(text("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 7"))
    code, output = verify(app)
    assert code == 1
    assert output == (f"audit chain BROKEN at event id={target} seq=7: content does not match "
                      "its hash (the row was altered) (6 events checked before it)")


def test_deleting_a_row_directly_is_reported_by_verify(app, sealed_demo, tamper):
    with tamper("delete") as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    code, output = verify(app)
    assert code == 1
    assert "seq=4: sequence gap: expected seq 3, found 4" in output


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET reason = 'x' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
])
def test_the_database_refuses_update_and_delete_on_the_audit_table(app, sealed_demo,
                                                                  statement):
    engine = app.extensions["pro"]["engine"]
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert verify(app)[0] == 0
