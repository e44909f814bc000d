"""One app for the fuzzing gate, on one backend, with the demo study and its staff."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pro_server.clock import FixedClock
from pro_server.config import Settings
from pro_server.context import Actor, ServiceContext
from pro_server.db import make_engine
from pro_server.migrate import upgrade
from tests.conftest import POSTGRES_URL, START, TEST_DATA_KEY, TEST_LOOKUP_KEY
from tests.helpers import StaffClient


@pytest.fixture(scope="module")
def fuzz_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        return
    name = f"pro_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database_url: str, tmp_path_factory: pytest.TempPathFactory):
    from pro_server import create_app
    from pro_server.demo import load_demo

    engine = make_engine(fuzz_database_url)
    upgrade(engine)
    settings = Settings(
        env="test", database_url=fuzz_database_url,
        secret_key="test-secret-key-not-for-production", data_keys=(TEST_DATA_KEY,),
        phone_lookup_key=TEST_LOOKUP_KEY,
        instance_path=tmp_path_factory.mktemp("fuzz-instance"),
        public_base_url="http://127.0.0.1:5000", login_rate_limit="1000 per minute",
    )
    clock = FixedClock(START)
    app = create_app(settings, clock=clock, engine=engine)
    app.config["TESTING"] = True
    pro = app.extensions["pro"]
    with pro["session_factory"]() as session:
        ctx = ServiceContext.of_app(pro, Actor.system("fuzz"), session=session)
        credentials = {c.email: c.password for c in load_demo(ctx)}
        session.commit()
    app.extensions["fuzz_credentials"] = credentials
    yield app
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_sign_in(fuzz_app) -> Callable[[str], tuple[dict[str, str], dict[str, str]]]:
    """Signs a demo staff user in afresh (a fuzzed logout ends every session of the user):
    the CSRF header and the session cookie for the generated requests."""
    emails = {"admin": "admin@example.org", "coordinator": "coordinator.gnv@example.org"}

    def sign_in(who: str) -> tuple[dict[str, str], dict[str, str]]:
        client = fuzz_app.test_client()
        email = emails[who]
        staff = StaffClient.login(client, email, fuzz_app.extensions["fuzz_credentials"][email])
        return {"X-CSRFToken": staff.csrf_token}, {"pro_session": client.get_cookie(
            "pro_session").value}

    return sign_in


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.fuzz.test_openapi_fuzz import SUMMARY

    for line in SUMMARY:
        terminalreporter.write_line(line)
