"""Fixture worlds built once per test process and backend, then restored for later tests.

Building the demo study, the dashboard story or the EDC world through the real services takes
from a third of a second to several seconds per test; putting back the rows they left takes a
few milliseconds. A world is reused only under the same key: the same settings (less the
addresses of a test's own fake servers and folders), the same clock reading, and the same
row count in every table before it was built, so a test that arranges something first, or
starts at another moment, builds its own. The restored world carries the clock to where the
build left it. What a fixture returns must be plain data: it is handed to every later test.

SQLite worlds are copied with SQLite's backup API; PostgreSQL worlds are kept in a schema of
the test database and copied back with INSERT ... SELECT, sequences included.
"""

from __future__ import annotations

import copy
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, inspect, text

from pro_server.clock import FixedClock
from pro_server.config import Settings

T = TypeVar("T")

# A test's own fake servers and folders: different in every test, never part of what is built.
EPHEMERAL_SETTINGS = frozenset({"instance_path", "twilio_api_base_url", "smtp_host", "smtp_port"})


@dataclass(frozen=True)
class Captured:
    value: Any
    clock_after: datetime
    where: str  # the SQLite file or the PostgreSQL schema holding the rows


def _settings_key(settings: Settings) -> tuple:
    return tuple((f.name, repr(getattr(settings, f.name))) for f in fields(settings)
                 if f.name not in EPHEMERAL_SETTINGS)


def table_names(engine: Engine) -> list[str]:
    return sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")


def _row_counts(engine: Engine, tables: list[str]) -> tuple:
    union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
    with engine.connect() as conn:
        return tuple(sorted(conn.execute(text(union)).all()))


class Snapshots:
    """The worlds of one test process on one backend."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self._captured: dict[tuple, Captured] = {}
        self._tables: list[str] = []
        # Stores sharing a database (a test of this module beside the session's) never
        # share a schema name.
        self._prefix = uuid.uuid4().hex[:8]

    def world(self, name: str, engine: Engine, settings: Settings, clock: FixedClock,
              build: Callable[[], T]) -> T:
        """`build()`'s value, built here or restored from an earlier build under the same key."""
        tables = self._tables = self._tables or table_names(engine)
        key = (name, clock.now(), _settings_key(settings), _row_counts(engine, tables))
        captured = self._captured.get(key)
        if captured is None:
            value = build()
            where = f"{name}_{self._prefix}_{len(self._captured)}"
            self._capture(engine, tables, where)
            self._captured[key] = Captured(copy.deepcopy(value), clock.now(), where)
            return value
        self._restore(engine, tables, captured.where)
        clock.set(captured.clock_after)
        return copy.deepcopy(captured.value)

    def _capture(self, engine: Engine, tables: list[str], where: str) -> None:
        if self.backend == "sqlite":
            raw = engine.raw_connection()
            target = sqlite3.connect(self.folder / f"{where}.db")
            try:
                raw.driver_connection.backup(target)
            finally:
                target.close()
                raw.close()
            return
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "snap_{where}"'))
            for t in tables:
                conn.execute(text(f'CREATE TABLE "snap_{where}"."{t}" AS SELECT * FROM "{t}"'))
            conn.execute(text(
                f'CREATE TABLE "snap_{where}"."_sequences" AS SELECT sequencename AS name, '
                "last_value FROM pg_sequences WHERE schemaname = 'public'"))

    def _restore(self, engine: Engine, tables: list[str], where: str) -> None:
        if self.backend == "sqlite":
            source = sqlite3.connect(self.folder / f"{where}.db")
            raw = engine.raw_connection()
            try:
                source.backup(raw.driver_connection)
            finally:
                raw.close()
                source.close()
            return
        empty_postgres(engine, tables)
        with engine.begin() as conn:
            # Rows come back as they were: no foreign-key or other triggers on the way in.
            conn.execute(text(";".join([
                "SET LOCAL session_replication_role = replica",
                *(f'INSERT INTO "{t}" SELECT * FROM "snap_{where}"."{t}"' for t in tables)])))
            conn.execute(text(
                "SELECT setval(quote_ident(name), coalesce(last_value, 1), last_value IS NOT NULL)"
                f' FROM "snap_{where}"."_sequences"'))


def empty_postgres(engine: Engine, tables: list[str]) -> None:
    """Every table emptied and every sequence back at its start, then vacuumed.

    DELETE, not TRUNCATE: on a test database's few rows TRUNCATE takes most of a second (new
    files for every table), DELETE and VACUUM a few milliseconds. Triggers (the audit
    trail's append-only guard, foreign keys) are off for the DELETE's transaction: rows go
    and come back as they were (needs a superuser, as the test database's owner is). The
    VACUUM gives each table back its pages, so rows are stored, and read back by a plain
    scan, in the order they were written, as after TRUNCATE: tests that read rows without
    ORDER BY (two were found) see what they saw before.
    """
    with engine.begin() as conn:
        conn.execute(text(";".join([
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{t}"' for t in tables),
            "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
            "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace",
        ])))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM " + ", ".join(f'"{t}"' for t in tables)))


def no_autovacuum(engine: Engine, tables: list[str]) -> None:
    """Autovacuum off for the test database's tables: run in the middle of a test, it frees
    space in pages that later rows then fill, and a plain scan returns them out of the order
    they were written (empty_postgres vacuums between tests instead)."""
    with engine.begin() as conn:
        conn.execute(text(";".join(
            f'ALTER TABLE "{t}" SET (autovacuum_enabled = false)' for t in tables)))
