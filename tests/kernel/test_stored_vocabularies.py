"""Words of a fixed vocabulary are checked by the database itself, and bookkeeping timestamps
come from the injected clock (pro_server.db.enum_type, CreatedAt, UpdatedAt)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import get_args

import pytest
from alembic import command
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.exc import IntegrityError

from pro_server.db import make_engine
from pro_server.migrate import alembic_config, upgrade
from pro_server.models import Base
from pro_server.protocol.planner import InfusionStatus
from pro_server.protocol.status import AssessmentStatus
from pro_server.schedule.models import InfusionState, RecordedStatus
from tests.conftest import START


def test_every_vocabulary_check_of_the_models_is_in_the_migrated_schema(engine):
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        modelled = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        migrated = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert modelled <= migrated, table.name


# A column for each way a word was stored before: SQLAlchemy Enum without a constraint,
# a StrEnum in a String, a Literal in a String.
COLUMNS = (("participant", "status"), ("staff_user", "role"),
           ("outbox_message", "status"), ("assessment", "recorded_status"))


def test_the_database_refuses_a_word_outside_the_vocabulary(app, demo, engine):
    for table, column in COLUMNS:
        with engine.connect() as conn:
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) > 0, table
        with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"), \
                engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET {column} = 'misspelt'"))


def test_the_stored_schedule_words_are_the_protocols_words():
    """The pure protocol core types its statuses as Literals; what schedule stores must
    accept exactly those words (and "new", before the first record)."""
    assert {s.value for s in RecordedStatus} == {"new", *get_args(AssessmentStatus)}
    assert {s.value for s in InfusionState} == set(get_args(InfusionStatus))


def test_a_change_is_stamped_from_the_injected_clock(staff_client, ids, clock):
    client = staff_client("coordinator.gnv@example.org")
    url = f"/api/v1/participants/{ids['GNV-001']}"
    created = client.get(url).json
    later = clock.advance(timedelta(days=3, minutes=7))
    changed = client.patch(url, json={"reminder_time": "18:30"}).json
    again = client.get(url).json
    assert created["created_at"] == changed["created_at"] == again["created_at"]
    assert datetime.fromisoformat(created["updated_at"]) == START
    assert datetime.fromisoformat(changed["updated_at"]) == later
    assert again["updated_at"] == changed["updated_at"]


def test_the_migration_names_stored_words_outside_a_vocabulary_and_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0019_h18email")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO staff_user (email, name, password_hash, role, active, session_version,"
            " created_at) VALUES ('a@example.org', 'A', 'x', 'superuser', 1, 1, :now)"),
            {"now": START.replace(tzinfo=None)})
    with pytest.raises(RuntimeError, match=r"staff_user\.role holds 'superuser' \(1 rows\)"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0019_h18email"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        conn.execute(text("UPDATE staff_user SET role = 'admin'"))
        conn.commit()
    upgrade(engine)
    command.downgrade(alembic_config(engine), "0019_h18email")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT role FROM staff_user")) == "admin"
    engine.dispose()
