"""The test worlds restored from a snapshot are the worlds a build leaves (tests/snapshots.py)."""

from __future__ import annotations

import shutil
from datetime import timedelta

from sqlalchemy import Engine, text

from pro_server.demo import load_demo
from tests.conftest import START
from tests.snapshots import Snapshots, empty_postgres, table_names


def _rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every table's rows and, on PostgreSQL, where each id sequence stands (SQLite's next
    id follows from the rows: no AUTOINCREMENT tables)."""
    with engine.connect() as conn:
        rows = {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr)
                for t in table_names(engine)}
        if engine.dialect.name == "postgresql":
            rows["(sequences)"] = sorted(map(tuple, conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences"))), key=repr)
        return rows


def _empty(database, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    if database.backend == "postgresql":
        empty_postgres(engine, table_names(engine))
        return
    engine.dispose()
    shutil.copyfile(database.template, engine.url.database)


def test_a_restored_demo_has_every_row_of_the_built_one_and_the_clock_where_it_was_left(
        database, engine, settings, clock, ctx_factory, tmp_path):
    snapshots = Snapshots(database.backend, tmp_path)
    builds = []

    def build() -> dict[str, str]:
        builds.append(clock.now())
        ctx = ctx_factory()
        credentials = {c.email: c.password for c in load_demo(ctx)}
        ctx.session.commit()
        clock.advance(timedelta(minutes=7))
        return credentials

    built = snapshots.world("demo", engine, settings, clock, build)
    rows = _rows(engine)
    assert sum(map(len, rows.values())) > 50  # a real world: study, sites, staff, participants

    _empty(database, engine)
    clock.set(START)
    restored = snapshots.world("demo", engine, settings, clock, build)
    assert len(builds) == 1, "restored, not built again"
    assert restored == built
    assert _rows(engine) == rows
    assert clock.now() == START + timedelta(minutes=7)

    _empty(database, engine)
    clock.set(START + timedelta(days=1))  # another moment: built anew
    snapshots.world("demo", engine, settings, clock, build)
    assert builds == [START, START + timedelta(days=1)]
