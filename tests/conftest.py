"""Shared fixtures: every database test runs on SQLite and, when TEST_POSTGRES_URL is set,
again on PostgreSQL. The schema is always built by the Alembic migrations."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from pro_server.clock import FixedClock
from pro_server.config import Settings
from pro_server.db import make_engine
from pro_server.migrate import upgrade
from pro_server.staff import passwords
from tests import response_contract
from tests.helpers import StaffClient
from tests.snapshots import Snapshots, empty_postgres, no_autovacuum, table_names

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
TEST_DATA_KEY = "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E="
TEST_LOOKUP_KEY = "test-phone-lookup-key-not-for-production-use"
START = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)

passwords.use_fast_test_profile()

# Property tests judge the code, not the machine: on a busy 2-core runner generating examples
# can be slow (HealthCheck.too_slow failed a protocol test under load) and so can one example.
settings.register_profile("shared-runner", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-runner")


@dataclass
class TestDatabase:
    backend: str
    url: str
    template: Path | None = None
    tables: list[str] = field(default_factory=list)

    def fresh_engine(self, workdir: Path) -> Engine:
        if self.backend == "sqlite":
            target = workdir / "test.db"
            shutil.copyfile(self.template, target)
            return make_engine(f"sqlite:///{target}")
        engine = make_engine(self.url)
        empty_postgres(engine, self.tables)
        return engine


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[TestDatabase]:
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite-template") / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield TestDatabase("sqlite", f"sqlite:///{template}", template)
        return
    # One throw-away database per test run, so parallel runs never meet.
    name = f"pro_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    tables = table_names(engine)
    no_autovacuum(engine, tables)
    engine.dispose()
    yield TestDatabase("postgresql", url, tables=tables)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def snapshots(database: TestDatabase, tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    """Worlds (the demo, the dashboard story, the EDC data) built once per backend and process."""
    return Snapshots(database.backend, tmp_path_factory.mktemp(f"snapshots-{database.backend}"))


@pytest.fixture
def engine(database: TestDatabase, tmp_path: Path) -> Iterator[Engine]:
    engine = database.fresh_engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(tmp_path: Path, database: TestDatabase) -> Settings:
    return Settings(
        env="test",
        database_url=database.url,
        secret_key="test-secret-key-not-for-production",
        data_keys=(TEST_DATA_KEY,),
        phone_lookup_key=TEST_LOOKUP_KEY,
        instance_path=tmp_path / "instance",
        public_base_url="http://127.0.0.1:5000",
        login_rate_limit="5 per minute",
    )


@pytest.fixture
def app(settings: Settings, clock: FixedClock, engine: Engine):
    from pro_server import create_app

    app = create_app(settings, clock=clock, engine=engine)
    app.config["TESTING"] = True
    response_contract.install(app)
    return app


@pytest.fixture
def ctx_factory(app):
    """Service contexts outside a request, for arranging data through the real services."""
    from pro_server.context import Actor, ServiceContext

    pro = app.extensions["pro"]
    sessions = []

    def make(actor: Actor | None = None) -> ServiceContext:
        session = pro["session_factory"]()
        sessions.append(session)
        return ServiceContext.of_app(pro, actor or Actor.system("test"), session=session)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def demo(snapshots, engine, settings, clock, ctx_factory) -> dict[str, str]:
    """The demo study; returns staff passwords by email."""
    from pro_server.demo import load_demo

    def build() -> dict[str, str]:
        ctx = ctx_factory()
        credentials = load_demo(ctx)
        ctx.session.commit()
        return {c.email: c.password for c in credentials}

    return snapshots.world("demo", engine, settings, clock, build)


@pytest.fixture
def ids(app, demo) -> dict[str, int]:
    """Participant ids of the demo by subject key."""
    from pro_server.participants.models import Participant

    with app.extensions["pro"]["session_factory"]() as session:
        return dict(session.execute(select(Participant.subject_key, Participant.id)).all())


@pytest.fixture
def staff_client(app, demo):
    """`staff_client("coordinator.gnv@example.org")` gives a signed-in client."""

    def make(email: str) -> StaffClient:
        return StaffClient.login(app.test_client(), email, demo[email])

    return make


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by `-m`
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked `postgres_only(reason=...)` is skipped on every other backend, with
    that reason; `-m "not postgres_only"` leaves such tests out altogether."""
    for item in items:
        marker = item.get_closest_marker("postgres_only")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database") if callspec else None
        if marker is not None and backend != "postgresql":
            reason = marker.kwargs.get("reason", "needs PostgreSQL")
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many database tests ran on each backend, so CI output shows both ran."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("passed", []):
        for backend in ("sqlite", "postgresql"):
            if f"[{backend}" in report.nodeid:
                counts[backend] = counts.get(backend, 0) + 1
    if counts:
        line = ", ".join(f"{n} on {backend}" for backend, n in sorted(counts.items()))
        terminalreporter.write_line(f"database tests passed: {line}")
