"""Alembic driven from code, so no alembic.ini is needed and the URL comes from Settings."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from pro_server.resources import migrations_dir


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def revision(engine: Engine, message: str) -> None:
    command.revision(alembic_config(engine), message=message, autogenerate=True)
