"""Declarative base, column types and engine set-up shared by every feature's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import tenacity
from sqlalchemy import DateTime, Engine, MetaData, Select, Text, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always returned timezone-aware in UTC.

    SQLite has no zone-aware type, so naive datetimes are refused on the way in rather
    than silently taken as server-local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text with sorted keys, so what is stored is byte-stable on both backends."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-backend settings the service relies on."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


SQLITE_LOCK_SECONDS = 5  # a busy machine can hold the write lock for seconds


def retry_when_sqlite_locked(session: Session) -> tenacity.Retrying:
    """Attempts for a short write transaction that may meet "database is locked" on SQLite.

    A read transaction cannot be upgraded to a write once another connection has committed
    (SQLite says so at once, without waiting), so the whole transaction is tried again in a
    fresh one. On PostgreSQL nothing is retried. Use as
    ``for attempt in retry_when_sqlite_locked(s): with attempt, unit_of_work(...): ...``.
    """
    on_sqlite = session.get_bind().dialect.name == "sqlite"
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(
            lambda exc: on_sqlite and isinstance(exc, OperationalError)),
        stop=tenacity.stop_after_delay(SQLITE_LOCK_SECONDS),
        wait=tenacity.wait_random_exponential(multiplier=0.02, max=0.5),
        reraise=True)


def claim(query: Select[Any], session: Session) -> Select[Any]:
    """Rows no other job process is working on: FOR UPDATE SKIP LOCKED on PostgreSQL (several
    scheduler processes share the work); SQLite runs one scheduler, so the query is unchanged."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query
