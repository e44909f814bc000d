"""A pooled PostgreSQL connection is checked before use only when in doubt
(`db._ping_when_in_doubt`): a connection the server ended is replaced, never handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from pro_server import db


@pytest.fixture
def pg_engine(engine: Engine, database) -> Engine:
    if database.backend != "postgresql":
        pytest.skip("the pool's liveness check is PostgreSQL's")
    return engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(engine: Engine, pid: int) -> None:
    """End one server process from another connection, and wait until it is gone."""
    admin = db.make_engine(engine.url.render_as_string(hide_password=False),
                           isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def test_a_connection_the_server_ended_is_replaced_before_use(pg_engine: Engine) -> None:
    pid = _backend_pid(pg_engine)  # now resting in the pool
    _terminate(pg_engine, pid)
    # Taken again well inside IDLE_BEFORE_PING: its socket holds the server's farewell.
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_a_connection_just_returned_is_taken_without_a_ping(
        pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = []
    real_ping = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    first = _backend_pid(pg_engine)  # a new connection: not pinged
    assert _backend_pid(pg_engine) == first
    assert pings == []
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # now every rest is too long
    assert _backend_pid(pg_engine) == first
    assert pings == [1]
