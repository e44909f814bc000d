"""Declarative base, column types and engine set-up shared by every feature's models."""

from __future__ import annotations

import functools
import json
import queue
import select
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any, TypeVar, cast

import psycopg
import tenacity
from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    Enum,
    MetaData,
    Select,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    insert,
    text,
    update,
)
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    make_transient,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert, Update, UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeDecorator

from pro_server.clock import Clock

T = TypeVar("T")

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
        if type(value) is JSONWritten:
            return value
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class JSONWritten(str):
    """A value's text as a `JSONText` column writes it (`json_written`, `json_object_written`),
    written once: the column stores it as it is, and `insert_rows_now` sends it as JSON
    inside its JSON parameter, not as a string escaped again. Strict JSON (no NaN)."""

    __slots__ = ()


def json_written(value: Any) -> JSONWritten:
    """`value` as a `JSONText` column writes it; ValueError for a float JSON cannot write
    (NaN, infinity), which the column would write as NaN (the caller then gives the value)."""
    return JSONWritten(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str,
                                  allow_nan=False))


def json_object_written(values: Mapping[str, Any], written: Mapping[str, JSONWritten]
                        ) -> JSONWritten:
    """`json_written` of one object whose members are `values` and `written` (members whose
    text is written already: not written again). `values`: strings, integers, None or
    anything `json_written` takes."""
    members: dict[str, str] = dict(written)
    for key, value in values.items():
        members[key] = (_json_string(value) if type(value) is str else
                        int.__repr__(value) if type(value) is int else
                        "null" if value is None else json_written(value))
    return JSONWritten("{" + ",".join(f"{_json_string(key)}:{members[key]}"
                                      for key in sorted(members)) + "}")


def enum_type(values: type[StrEnum], *, name: str, length: int) -> Enum:
    """The one way a column holds one word of a fixed vocabulary (a feature's StrEnum).

    Stored as the members' values in a VARCHAR of ``length`` (no native enum type), checked
    by the database: a CHECK constraint named ``ck_<table>_<name>`` (its migration adds it).
    Rows read back hold the StrEnum members, which compare equal to their strings. Strings
    outside the vocabulary are passed through to the database, so a query may still ask
    about a word that is not stored (``status IN ('read', ...)``); writing one is refused.
    """
    return Enum(values, name=name, length=length, native_enum=False, create_constraint=True,
                validate_strings=False, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class CreatedAt:
    """Bookkeeping: when the row was first stored, set at flush from the session's clock."""

    created_at: Mapped[datetime]


class UpdatedAt:
    """Bookkeeping: when the row was last changed (and first stored), set at flush from the
    session's clock. Instants with a meaning of their own (sent_at, submitted_at, ...) stay
    explicit; so does `outbox_message.updated_at`, which its queries read as "last looked
    at"."""

    updated_at: Mapped[datetime]


_CLOCK = "clock"  # the key in Session.info


def use_clock(session: Session, clock: Clock) -> None:
    """The clock the session's bookkeeping timestamps are read from (ServiceContext sets it)."""
    session.info[_CLOCK] = clock


@event.listens_for(Session, "before_flush")
def _stamp_bookkeeping(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Where `created_at` / `updated_at` are set (`insert_now` and `update_now` too, by the
    same rule): a new row gets both (unless given), a changed row its `updated_at`, both at
    the instant of the session's clock."""
    now: datetime | None = None

    def clock_now() -> datetime:
        nonlocal now
        if now is None:
            now = _session_clock(session).now()
        return now

    for obj in session.new:
        _stamp_new(obj, clock_now)
    for obj in session.dirty:
        state = inspect_instance(obj)
        if isinstance(obj, UpdatedAt) and state is not None and not (
                state.attrs.updated_at.history.has_changes()):
            obj.updated_at = clock_now()


def _stamp_new(obj: object, now: Callable[[], datetime]) -> None:
    if isinstance(obj, CreatedAt) and obj.created_at is None:
        obj.created_at = now()
    if isinstance(obj, UpdatedAt) and obj.updated_at is None:
        obj.updated_at = now()


@functools.cache
def _insert_returning_id(table: Table) -> tuple[Insert, tuple[str, ...]]:
    """The table's INSERT of every column but `id`, RETURNING id in the rows' order; built
    once (a built statement keeps its cache key, so executing it skips that work)."""
    keys = tuple(c.key for c in table.columns if c.key != "id")
    return insert(table).returning(table.c.id, sort_by_parameter_order=True), keys


@functools.cache
def _update_by_id(table: Table) -> Update:
    """The table's UPDATE of the row whose id is bound as `_id`; the columns set are the
    other parameters' keys. Built once."""
    return update(table).where(table.c.id == bindparam("_id"))


def insert_now(session: Session, objects: Sequence[Base]) -> None:
    """INSERT new objects of one mapped class now, in one Core statement (INSERT ... RETURNING
    id, the ids in the objects' order), and attach them to ``session`` as stored and loaded.

    For a request's hot writes: the unit of work's flush costs several times the CPU of the
    statement it sends. Every column but `id` is sent (one left unset goes as NULL, not as its
    default); the bookkeeping timestamps are stamped as a flush would."""
    if not objects:
        return
    table = cast(Table, type(objects[0]).__table__)
    _, keys = _insert_returning_id(table)
    clock_now = functools.cache(lambda: _session_clock(session).now())
    for obj in objects:
        _stamp_new(obj, clock_now)
    ids = insert_rows_now(session, table, [{key: getattr(obj, key) for key in keys}
                                           for obj in objects], returning_ids=True)
    for obj, new_id in zip(objects, ids, strict=True):
        obj.id = new_id  # type: ignore[attr-defined]
    attach_stored(session, objects)


def attach_stored(session: Session, objects: Sequence[Base]) -> None:
    """Attach objects whose rows were just inserted (ids set) to ``session`` as stored and
    loaded, as `insert_now` does: a rollback of the transaction forgets them again."""
    for obj in objects:
        make_transient_to_detached(obj)
        session.add(obj)
    _inserted_in(session).append((_innermost_transaction(session), objects))


def insert_rows_now(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                    returning_ids: bool = False) -> list[int]:
    """INSERT rows (dicts by column key, all with the same keys) into ``table`` now, in one
    statement, in their order; with ``returning_ids`` their new ids, in the rows' order.
    No objects are made or attached (`insert_now` makes them).

    A column left out of the rows gets its server default (a client-side default is refused).
    On PostgreSQL the rows go as one JSON parameter, its records read in order
    (`json_to_recordset` ... WITH ORDINALITY): the statement's text and its one parameter
    stay the same whatever the number of rows, so psycopg and the server parse it once and
    prepare it. Many rows sent as a multi-row VALUES (over 50 parameters) are parsed again
    each time, an executemany binds each row apart, and arrays of strings are escaped one by
    one in Python. One row (most of a participant's inserts) goes as a one-row VALUES, a
    parameter per column: also one text, prepared alike, and less work for the server than
    reading a record set (~20 us a row). Each value is first what Core would bind (the
    column type's bind processor), so what is stored is the same. Elsewhere, or when JSON
    does not write a value here (a float NaN or infinity; a type other than JSON's own and
    UTC instants): Core's INSERT (RETURNING id in the rows' order), an executemany."""
    if not rows:
        return []
    session.flush()  # what was written before goes first, as with the unit of work
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        keys = tuple(rows[0])
        statement, processors = _postgresql_insert(table, keys, returning_ids, dialect,
                                                   len(rows) == 1)
        if len(rows) == 1:
            values = {key: row_value if process is None else process(row_value)
                      for (key, row_value), process in zip(rows[0].items(), processors,
                                                           strict=True)}
            if not returning_ids:
                session.execute(statement, values)
                return []
            return list(session.scalars(statement, values))
        try:
            document = _records(rows, keys, processors)
        except (TypeError, ValueError):  # a value JSON does not write as the driver would
            pass
        else:
            if not returning_ids:
                session.execute(statement, {"rows": document})
                return []
            return sorted(session.scalars(statement, {"rows": document}))  # made in order
    if not returning_ids:
        session.execute(insert(table), rows)
        return []
    returning_id, _ = _insert_returning_id(table)
    return list(session.scalars(returning_id, rows).all())


def _records(rows: Sequence[dict[str, Any]], keys: tuple[str, ...],
             processors: list[Any]) -> str:
    """The JSON array of the rows' bound values (`_postgresql_insert`'s parameter for many
    rows); a value already written as JSON (`JSONWritten`) goes in as that JSON, which
    PostgreSQL hands to the text column as it is (json keeps its text), not as a string
    escaped again. ValueError for a float JSON cannot write."""
    processed = [(key, process) for key, process in zip(keys, processors, strict=True)
                 if process is not None]  # most columns bind their values as they are
    plain, written = [], []
    for row in rows:
        values, members = dict(row), []
        for key, process in processed:
            value = values[key] = process(values[key])
            if type(value) is JSONWritten:  # only a JSON column's processor gives one
                members.append((key, value))
        plain.append(values)
        written.append(members)
    if not any(written):
        return _RECORDS.encode(plain)
    texts = []
    for values, members in zip(plain, written, strict=True):
        for key, _ in members:
            del values[key]
        inner = _RECORDS.encode(values)[1:-1]
        texts.append("{" + ",".join([*([inner] if inner else []), *(
            f"{_json_string(key)}:{value}" for key, value in members)]) + "}")
    return "[" + ",".join(texts) + "]"


def _json_instant(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()  # read back by timestamptz's input, to the microsecond
    raise TypeError(f"{type(value).__name__} is not bound as JSON here")


_RECORDS = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_instant)


def _instant_text(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An instant column's bind processor (`process`) for `_records`, giving an instant in UTC
    as its text (what `_json_instant` writes of the bound value), formatted once per instant
    (`_utc_text`): a statement's rows often share one (a submission's 27 score rows their
    submission's), and formatting it costs more than the rest of its trip. Other values
    (None, an instant in another zone, a naive one) go as `process` gives them."""

    def text(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            return _utc_text(process, value)
        return process(value)

    return text


@functools.lru_cache(maxsize=256)  # UTC instants: equal ones are the same instant, same text
def _utc_text(process: Callable[[Any], Any], value: datetime) -> str:
    return _json_instant(process(value))


@functools.lru_cache(maxsize=128)
def _postgresql_insert(table: Table, keys: tuple[str, ...], returning: bool,
                       dialect: Dialect, one_row: bool) -> tuple[TextClause, list[Any]]:
    """PostgreSQL's INSERT of `keys` from the records of one JSON array (`:rows`), or with
    `one_row` from one VALUES row (a parameter per key, bound by the key), and each
    column's bind processor (what Core applies to its values; for the records, an instant's
    gives its text: `_instant_text`). Strings are read as text,
    not as the column's varchar(n): the INSERT's assignment refuses a value too long, as
    before, where a cast would cut it."""
    for column in table.columns:
        if column.key not in keys and column.default is not None:
            raise ValueError(f"{table.name}.{column.key} has a client-side default: give it")
    quote = dialect.identifier_preparer.quote
    columns = [table.c[key] for key in keys]
    names = ", ".join(quote(c.name) for c in columns)
    types = []
    processors: list[Any] = []  # each a function of one value, or None
    for column in columns:
        impl = column.type.dialect_impl(dialect)
        base = impl.impl_instance if isinstance(impl, TypeDecorator) else impl
        types.append("TEXT" if isinstance(base, String) else base.compile(dialect=dialect))
        process = impl.bind_processor(dialect)
        processors.append(_instant_text(process) if process is not None and isinstance(
            column.type, UTCDateTime) and not one_row else process)
    into = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names})"
    if one_row:
        cast_values = ", ".join(f"CAST(:{key} AS {sql_type})"
                                for key, sql_type in zip(keys, types, strict=True))
        sql = f"{into} VALUES ({cast_values})"
    else:
        definitions = ", ".join(f"{quote(key)} {sql_type}"
                                for key, sql_type in zip(keys, types, strict=True))
        sql = (f"{into} SELECT {names} FROM ROWS FROM (json_to_recordset(CAST(:rows AS JSON)) "  # noqa: S608 - names from the table's metadata
               f"AS ({definitions})) WITH ORDINALITY AS v({names}, ordinal_) ORDER BY ordinal_")
    if returning:
        sql += f" RETURNING {quote(table.c.id.name)}"
    return text(sql), processors


_INSERTED = "pro_server.inserted_now"


def _innermost_transaction(session: Session) -> SessionTransaction:
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # an INSERT just ran, so the session is in a transaction
        raise RuntimeError("insert_now outside a transaction")
    return transaction


def _inserted_in(session: Session) -> list[tuple[SessionTransaction, Sequence[Base]]]:
    """What insert_now attached in the session's current (root) transaction, with the
    (sub)transaction each was inserted in."""
    root = session.get_transaction()
    held = session.info.get(_INSERTED)
    if held is None or held[0] is not root:
        held = session.info[_INSERTED] = (root, [])
    return cast(list[tuple[SessionTransaction, Sequence[Base]]], held[1])


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_inserts(session: Session, rolled_back: SessionTransaction) -> None:
    """A rollback forgets the objects insert_now attached inside the rolled-back transaction
    or savepoint, as it forgets the ones a flush inserted: left in the session they would
    stand for rows the database never kept, and clash with the next row given the same id
    (SQLite hands a rolled-back id out again)."""
    held = session.info.get(_INSERTED)
    if not held:
        return
    kept = []
    for transaction, objects in held[1]:
        if not _within(transaction, rolled_back):
            kept.append((transaction, objects))
            continue
        for obj in objects:
            if obj in session:
                session.expunge(obj)
            make_transient(obj)
    held[1][:] = kept


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def update_now(session: Session, obj: Base, values: dict[str, Any]) -> None:
    """UPDATE columns of one stored object now (one Core statement, by its id) and set them
    on the object as loaded, not as changes: the unit of work has nothing left to write.
    An `UpdatedAt` row gets its `updated_at`, as a flush would stamp it."""
    values = update_row_now(session, type(obj), obj.id, values)  # type: ignore[attr-defined]
    for key, value in values.items():
        set_committed_value(obj, key, value)


def update_row_now(session: Session, mapped: type[Base], row_id: int,
                   values: dict[str, Any]) -> dict[str, Any]:
    """`update_now` of a row read without an object (by its class and id): the UPDATE only.
    Returns the values written, with the `updated_at` an `UpdatedAt` row gets."""
    if issubclass(mapped, UpdatedAt) and "updated_at" not in values:
        values = {**values, "updated_at": _session_clock(session).now()}
    session.flush()  # what was written before goes first, as with the unit of work
    session.execute(_update_by_id(cast(Table, mapped.__table__)), {**values, "_id": row_id})
    return values


def _session_clock(session: Session) -> Clock:
    clock = session.info.get(_CLOCK)
    if clock is None:
        raise RuntimeError("this session has no clock for created_at/updated_at: "
                           "write through a ServiceContext (or db.use_clock)")
    return cast(Clock, clock)


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
            if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                return  # e.g. a migration's PRAGMA that SQLite takes only outside a transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")

        return engine
    if url.startswith("postgresql+psycopg"):
        kwargs["connect_args"] = {"cursor_factory": _LazyDescriptionCursor,
                                  **kwargs.get("connect_args", {})}
        if "pool_pre_ping" not in kwargs:
            engine = create_engine(url, **kwargs)
            _ping_when_in_doubt(engine)
            return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


IDLE_BEFORE_PING = 10.0  # seconds a pooled connection may rest and still be taken unpinged


def _ping_when_in_doubt(engine: Engine) -> None:
    """Check a pooled psycopg connection before use only when in doubt, not on every checkout.

    SQLAlchemy's `pool_pre_ping` sends `SELECT 1` on each checkout: one more round trip, and
    one more statement for the server, in every request. A connection the server closed (a
    restart, an administrator's terminate, an idle timeout) has something to read on its
    socket: the server's farewell and end-of-file. So a connection is pinged when its socket
    has anything to read, or when it rested in the pool longer than IDLE_BEFORE_PING (a
    silent network drop shows nothing); a dead one is replaced before use, as with pre-ping."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get("checked_in_at")
        if checked_in is None:
            return  # new: it has just connected
        if time.monotonic() - checked_in < IDLE_BEFORE_PING and not _readable(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except psycopg.Error as exc:
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def _readable(dbapi_connection: psycopg.Connection[Any]) -> bool:
    """Whether the server sent anything unasked (between requests it sends nothing else)."""
    try:
        fd = dbapi_connection.pgconn.socket
    except psycopg.OperationalError:
        return True  # closed on our side: the ping fails and the pool reconnects
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class _ResultSnapshot:
    """What psycopg's Column reads from its cursor, kept as it was for one result."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.pgresult = cursor.pgresult
        self._encoding = cursor._encoding
        self.adapters = cursor.adapters


class _LazyColumns(Sequence[psycopg.Column]):
    """psycopg's `cursor.description`, its Column objects made when first read.

    SQLAlchemy reads a compiled statement's result columns from the statement, once; on
    every later run it takes the description only to see that rows came back. psycopg makes
    a Column for every column of every result (a type look-up each): a twentieth of a
    participant request's CPU, for objects nobody reads."""

    __slots__ = ("_columns", "_count", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any], count: int) -> None:
        self._result: _ResultSnapshot | None = _ResultSnapshot(cursor)
        self._count = count
        self._columns: list[psycopg.Column] = []

    def _made(self) -> list[psycopg.Column]:
        if self._result is not None:
            result, self._result = self._result, None
            self._columns = [psycopg.Column(cast(Any, result), i) for i in range(self._count)]
        return self._columns

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]

    def __iter__(self) -> Iterator[psycopg.Column]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, (list, Sequence)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like the list psycopg gives

    def __repr__(self) -> str:
        return repr(self._made())


class _LazyDescriptionCursor(psycopg.Cursor[Any]):
    """psycopg's client-side cursor with `description` made as it is read (`_LazyColumns`)."""

    @property
    def description(self) -> list[psycopg.Column] | None:
        result = self.pgresult
        if result is None or result.nfields == 0:
            return super().description  # psycopg's own answer: None, or [] ("SELECT ;")
        return cast(list[psycopg.Column], _LazyColumns(self, result.nfields))


def make_session_factory(engine: Engine, clock: Clock | None = None) -> sessionmaker:
    """Sessions on ``engine``; with ``clock``, their bookkeeping timestamps read it."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True,
                        info={_CLOCK: clock} if clock is not None else None)


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


def rows_changed(session: Session, statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE in ``session``; the number of rows it matched. (For DML,
    Session.execute returns a CursorResult, though it is typed as the general Result.)"""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


_STOP_POLL = 0.1  # seconds: how often a reader blocked on a full queue looks for a stop


def read_ahead(fetch: Callable[[], Sequence[T]], depth: int = 2) -> Generator[T, None, None]:
    """The items of successive `fetch()` batches (an empty one ends them), fetched by a
    thread up to `depth` batches ahead of the consumer: while the consumer works on one batch,
    the next is on its way (a database driver waiting on its server releases the GIL, so the
    server's work and the consumer's overlap on two cores). Memory stays bounded by `depth`
    batches.

    `fetch` alone runs in the thread: it must use nothing the consumer uses meanwhile (a
    session, say), only what it owns (a server-side cursor, whose connection is thread-safe
    in psycopg 3). An error of `fetch` is raised to the consumer. When the consumer stops
    (the generator closed, or collected) the thread is stopped and joined before this
    generator returns: after `close()` nothing calls `fetch` again, so what it reads from
    can be closed."""
    batches: queue.Queue[tuple[Sequence[T] | None, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def hand(item: tuple[Sequence[T] | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=_STOP_POLL)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while not stop.is_set():
                batch = fetch()
                if not hand((batch, None)) or not batch:
                    return
        except BaseException as error:  # raised again in the consumer
            hand((None, error))

    reader = threading.Thread(target=read, name="read_ahead", daemon=True)
    reader.start()
    try:
        while True:
            batch, error = batches.get()
            if error is not None:
                raise error
            if not batch:
                return
            yield from batch
    finally:
        stop.set()
        reader.join()
