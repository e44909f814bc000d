"""Configuration, OpenAPI docs served offline, migrations matching the models, the demo CLI."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.schema import CreateIndex

from pro_server.config import ConfigError, load_settings
from pro_server.migrate import alembic_config
from pro_server.models import Base


def test_production_refuses_to_start_without_real_secrets(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY, PRO_DATA_KEYS"):
        load_settings({"PRO_ENV": "production", "PRO_INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_the_fake_twilio(tmp_path):
    env = {"PRO_ENV": "production", "SECRET_KEY": "s" * 40,
           "PRO_DATA_KEYS": "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E=",
           "PHONE_LOOKUP_KEY": "l" * 40,
           "SMS_BACKEND": "none", "TWILIO_API_BASE_URL": "http://127.0.0.1:8765"}
    with pytest.raises(ConfigError, match="fake Twilio"):
        load_settings(env)


def test_production_needs_its_own_phone_lookup_key(tmp_path):
    env = {"PRO_ENV": "production", "SECRET_KEY": "s" * 40,
           "PRO_DATA_KEYS": "p3bPZ3rM2Dcv6nW8gYhRk5rj2oGkzV9i-kYx7x4sN0E="}
    with pytest.raises(ConfigError, match="PHONE_LOOKUP_KEY"):
        load_settings(env)


def test_development_generates_secrets_once_and_warns(tmp_path, caplog):
    first = load_settings({"PRO_INSTANCE_PATH": str(tmp_path)})
    second = load_settings({"PRO_INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key
    assert first.secret_key == second.secret_key
    assert first.data_keys == second.data_keys
    assert "never use them in production" in caplog.text
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PRO_ENV", "staging", "PRO_ENV must be one of"),
    ("SMS_BACKEND", "carrier-pigeon", "SMS_BACKEND must be one of"),
    ("PRO_DATA_KEYS", "not-a-key", "Fernet keys"),
    ("MAX_BODY_BYTES", "lots", "MAX_BODY_BYTES must be a whole number"),
    ("PHONE_LOOKUP_KEY", "short", "PHONE_LOOKUP_KEY needs at least 32 characters"),
    ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be 0 or more"),
])
def test_bad_settings_are_named(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"PRO_INSTANCE_PATH": str(tmp_path), name: value})


def test_openapi_spec_lists_the_participant_api(app):
    spec = app.test_client().get("/api/openapi.json").json
    assert spec["info"]["title"] == "ePRO platform API"
    assert "/api/v1/participants" in spec["paths"]
    assert "/api/v1/participants/{participant_id}/withdraw" in spec["paths"]


def test_the_openapi_document_written_when_first_read_is_the_one_written_at_start_up(
        settings, clock, engine, monkeypatch):
    """An app writes its OpenAPI document when it is first read (most processes never read
    it); the document is the one flask-smorest writes while the blueprints are registered."""
    from flask_smorest import Api

    from pro_server import create_app
    from pro_server.extensions import ProApi

    lazy = create_app(settings, clock=clock, engine=engine).extensions["pro"]["api"]
    assert lazy._pending_docs, "nothing documented before the document is read"
    monkeypatch.setattr(ProApi, "register_blueprint", Api.register_blueprint)
    eager = create_app(settings, clock=clock, engine=engine).extensions["pro"]["api"]
    assert not eager._pending_docs
    assert json.dumps(lazy.spec.to_dict()) == json.dumps(eager.spec.to_dict())
    assert not lazy._pending_docs


def test_docs_page_loads_its_assets_from_the_service_not_a_cdn(app):
    client = app.test_client()
    with client.get("/api/docs") as response:
        page = response.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert "https://" not in page
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert len(asset.data) > 100_000


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def _conditions(conn: Connection, prefix: str = "") -> dict[tuple[str, str], str]:
    """The condition of each partial index (named with `prefix`) as the database reads it."""
    inspector, where = inspect(conn), f"{conn.dialect.name}_where"
    return {(table, index["name"].removeprefix(prefix)): str(index["dialect_options"][where])
            for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)
            if index["name"].startswith(prefix)
            and index["dialect_options"].get(where) is not None}


def test_each_partial_index_has_the_models_condition_in_the_migrated_schema(engine):
    """Alembic's comparison leaves an index's condition out: each model's index is built
    again beside the migrated one (rolled back) and the database's reading of both compared."""
    with engine.connect() as conn:  # one transaction, rolled back
        migrated = _conditions(conn)
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                if index.dialect_kwargs.get(f"{conn.dialect.name}_where") is not None:
                    ddl = str(CreateIndex(index).compile(dialect=conn.dialect))
                    conn.exec_driver_sql(ddl.replace(index.name, f"probe_{index.name}", 1))
        modelled = _conditions(conn, "probe_")
        conn.rollback()
    assert modelled == migrated
    assert {name for table, name in migrated if table == "outbox_message"} == {
        "ix_outbox_message_status_lease", "ix_outbox_message_provider_message_id",
        "ix_outbox_message_needs_review"}


def test_migrations_have_one_head_so_the_next_one_has_one_parent(engine):
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; add a merge revision"


def test_demo_command_prints_credentials_once_and_skips_when_loaded(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["pro", "demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "coordinator.gnv@example.org" in first.output
    again = runner.invoke(args=["pro", "demo", "--if-empty"])
    assert again.exit_code == 0
    assert "nothing loaded" in again.output
    assert "coordinator.gnv@example.org" not in again.output


def test_demo_refuses_a_production_configuration_and_loads_nothing(settings, clock, engine):
    from dataclasses import replace

    from sqlalchemy import text

    from pro_server import create_app

    prod = create_app(replace(settings, env="production"), clock=clock, engine=engine)
    result = prod.test_cli_runner().invoke(args=["pro", "demo", "--if-empty"])
    assert result.exit_code != 0
    assert "pro demo refuses to run with a production configuration" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM participant")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM staff_user")).scalar() == 0


def test_demo_history_never_reaches_the_sms_provider(settings, clock, engine):
    from dataclasses import replace

    from sqlalchemy import text

    from pro_server import create_app

    nobody_listens = "http://127.0.0.1:9"  # a real Twilio client here would fail every call
    twilio = replace(settings, sms_backend="twilio", twilio_api_base_url=nobody_listens,
                     twilio_account_sid="AC" + "0" * 32, twilio_auth_token="token",
                     twilio_messaging_service_sid="MG" + "0" * 32)
    app = create_app(twilio, clock=clock, engine=engine)
    result = app.test_cli_runner().invoke(args=["pro", "demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        sent = conn.execute(text(
            "SELECT provider_message_id FROM outbox_message WHERE channel = 'sms' "
            "AND provider_message_id IS NOT NULL")).scalars().all()
        failed = conn.execute(text(
            "SELECT count(*) FROM outbox_message WHERE last_error_code IS NOT NULL")).scalar()
    assert sent
    assert all(sid.startswith("CONSOLE") for sid in sent)
    assert failed == 0


def test_the_entry_point_refuses_a_bad_production_config_in_one_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PRO_DATA_KEYS",
                                                          "PHONE_LOOKUP_KEY")}
    env.update(PRO_ENV="production", PRO_INSTANCE_PATH=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ("pro-server refuses to start: production needs SECRET_KEY, "
                                   "PRO_DATA_KEYS, PHONE_LOOKUP_KEY set in the environment")
