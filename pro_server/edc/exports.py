"""Each export as a generator of bytes: database reads wired to the pure builders (no Flask).

`Export` holds what every export of one study needs; the generators read rows lazily, so a
web response (or the bench script) streams them with flat memory.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from itertools import islice, repeat
from typing import Any, cast

import psycopg
from psycopg.types.numeric import Int4, Int8
from sqlalchemy import Dialect, Select, select, text, true
from sqlalchemy.orm import Session

from pro_server.db import read_ahead
from pro_server.edc import (
    adherence,
    define,
    fhir,
    fhir_store,
    odm,
    odm_participation,
    odm_pg,
    participation,
    records_pg,
    redcap,
    sdtm,
    xpt,
)
from pro_server.edc.catalogue import StudyCatalogue, study_catalogue
from pro_server.edc.csvout import csv_stream
from pro_server.edc.fhir_store import FhirStudy
from pro_server.edc.records import (
    Row,
    check_texts,
    current_query,
    high_water,
    record_text,
    recorders,
    stream,
    versions_query,
    with_texts,
)
from pro_server.instruments import default_registry as instrument_registry
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.protocol.definitions import default_registry as protocol_registry
from pro_server.responses.models import Response, ResponseExport
from pro_server.studies.models import Study

DRIVER_BATCH = 2_000  # rows of an ODM or QS query fetched at a time (PostgreSQL)
READ_AHEAD = 2  # batches fetched ahead of an ODM or QS file's writer (PostgreSQL)


@lru_cache(maxsize=64)
def definition(code: str, version: str) -> InstrumentDefinition:
    return instrument_registry().get(code, version)


def catalogue_for(study: Study) -> StudyCatalogue:
    return study_catalogue(study.code, study.protocol_code, study.registry_id,
                           [s.code for s in study.sites],
                           instrument_registry(), protocol_registry())


@lru_cache(maxsize=32)
def _page_sql(dialect: Dialect, items: bool, scores: bool, limit: int) -> str:
    """`records_pg.page_query`'s text, compiled once: the same for every page of a size."""
    query = records_pg.page_query(items=items, scores=scores, limit=limit)
    return str(query.compile(dialect=dialect))


# plan_cache_mode for one statement: the mode before, and back to it; with the settings of
# `Export._plain_plans` (in the same statement: one round trip a page).
_GENERIC_PLANS = ("SELECT current_setting('plan_cache_mode'), "
                  "set_config('plan_cache_mode', 'force_generic_plan', true), "
                  "set_config('jit', 'off', true), "
                  "set_config('max_parallel_workers_per_gather', '0', true)")
_PLAN_MODE = "SELECT set_config('plan_cache_mode', %s, true)"


def _driver_stream(session: Session, query: Select, batch: int = 2_000, *,
                   ahead: int = 0) -> Iterator[Row]:
    """`records.stream` of a query whose columns need no result processing, read through
    psycopg's server-side cursor (PostgreSQL) in `batch`es, in the session's transaction.

    `ahead`: that many batches are fetched by a thread (`db.read_ahead`) while the rows are
    used, so the database computes the next batch meanwhile. The thread uses only the cursor
    (psycopg serialises it with the session's other statements on the connection); it is
    stopped before the cursor closes."""
    compiled = query.compile(dialect=session.get_bind().dialect)
    raw = cast(psycopg.Connection, session.connection().connection.dbapi_connection)
    with raw.cursor(name="edc_export_rows") as cursor:
        cursor.execute(str(compiled), compiled.params)
        keys = repeat(tuple(column.name for column in cursor.description or ()))
        if not ahead:  # a batch at a time: the cursor's own step is Python code
            for rows in iter(partial(cursor.fetchmany, batch), []):
                yield from map(dict, map(zip, keys, rows))  # each row a dict, in C
            return
        with closing(read_ahead(partial(cursor.fetchmany, batch), ahead)) as ahead_rows:
            yield from map(dict, map(zip, keys, ahead_rows))


def _closing(chunks: Iterator[bytes], rows: Iterator[Row]) -> Iterator[bytes]:
    """`chunks`, `rows` closed as soon as they stop (done, failed or closed early): an error
    held with its traceback would keep the rows' cursor (and a reading thread) alive."""
    with closing(cast(Generator[Row, None, None], rows)):
        yield from chunks


def _qs_texts_by_id(session: Session, rows: Iterator[Row], batch: int = 2_000) -> Iterator[Row]:
    """The rows (with their `response_id`) with their version's stored QS texts
    (`sdtm.JSON_COLUMNS`), read by id `batch` rows at a time; a version without them is
    refused (`records.check_texts`), never exported without its answers."""
    columns = [ResponseExport.response_id,
               *(getattr(ResponseExport, name) for name in sdtm.JSON_COLUMNS)]
    while chunk := list(islice(rows, batch)):
        ids = [row["response_id"] for row in chunk]
        found = session.connection().execute(
            select(*columns).where(ResponseExport.response_id.in_(ids)))
        texts = {id_: values for id_, *values in found}
        for row in chunk:
            values = texts.get(row["response_id"])
            if values is None:
                check_texts({**row, "texts_of": None})
            else:
                row.update(zip(sdtm.JSON_COLUMNS, values, strict=True))
            yield row


def _with_qs_texts(query: Select) -> Select:
    """The sorted rows of `query` (with their `response_id`) each with its version's stored
    QS texts (`sdtm.JSON_COLUMNS`; `texts_of`: None without them), in the same order: the
    texts are looked up by id for each row of the sorted narrow rows (a LATERAL subquery,
    LIMIT 1 so that it stays one: an index lookup per row, the order kept, not a join of the
    wide rows sorted again)."""
    rows = query.subquery("qs_rows")
    texts = (select(ResponseExport.response_id.label("texts_of"),
                    *(getattr(ResponseExport, name) for name in sdtm.JSON_COLUMNS))
             .where(ResponseExport.response_id == rows.c.response_id).limit(1)
             .lateral("qs_texts"))
    return (select(rows, texts).select_from(rows.outerjoin(texts, true()))
            .order_by(rows.c.subject_rank, rows.c.assessment_sequence, rows.c.response_id))


def _checked(rows: Iterator[Row]) -> Iterator[Row]:
    """The rows, a version without its stored texts refused (`records.check_texts`)."""
    for row in rows:
        if row["texts_of"] is None:
            check_texts(row)
        yield row


@dataclass
class Export:
    session: Session
    study: Study
    now: datetime
    items: bool = True
    scores: bool = True
    as_of: int | None = None  # seq bound of the current-data exports (default: the latest)
    grace: timedelta = timedelta(0)  # finishing a started assessment after its window closed
    sdtmig: str = "3.3"  # SDTMIG version of QS: QSBLFL (3.3) or QSLOBXFL (3.4)

    @property
    def catalogue(self) -> StudyCatalogue:
        return catalogue_for(self.study)

    def _upto(self) -> int:
        return self.as_of if self.as_of is not None else high_water(self.session,
                                                                    self.study.id)

    def _current(self, upto: int | None = None) -> Iterator[Row]:
        return stream(self.session, current_query(self.study.id,
                                                  self._upto() if upto is None else upto))

    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _plain_plans(self) -> None:
        """The queries that build the output carry one large expression per row: estimated
        costly, PostgreSQL would JIT-compile it, which took 30 s of a 6 s ODM export; and
        it would start parallel workers for each page of 1000 records (their start-up and
        the planning of a parallel plan cost more than they share). For the rest of this
        (read-only) transaction."""
        self.session.execute(text("SET LOCAL jit = off"))
        self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))

    # --- pull API
    def page_json(self, after: int, limit: int) -> tuple[list[bytes], int, bool]:
        """(records as JSON texts, last seq, more?) of one page, bounded by `limit`: each
        text built by the database on PostgreSQL (records_pg), by `record_text` elsewhere,
        around the texts stored with the version."""
        if self._postgresql():
            rows: list[Any] = self._page_rows(after, limit + 1)
        else:
            rows = [(row["audit_seq"], row["instrument_code"], row["instrument_version"],
                     row["texts_of"], row) for row in stream(self.session, versions_query(
                         self.study.id, after, limit=limit + 1, full=False), batch=None)]
        more = len(rows) > limit
        rows = rows[:limit]
        texts: list[bytes] = []
        known: set[tuple[str, str]] = set()
        for seq, code, version, texts_of, record in rows:
            if (code, version) not in known:  # an unknown version is refused, as the
                definition(code, version)     # builders do
                known.add((code, version))
            if texts_of is None:
                check_texts({"audit_seq": seq, "texts_of": None})
            texts.append((record if isinstance(record, str) else record_text(
                record, items=self.items, scores=self.scores)).encode())
        last = rows[-1][0] if rows else after
        return texts, last, more

    def _page_rows(self, after: int, limit: int) -> list[tuple[Any, ...]]:
        """PostgreSQL: `records_pg.page_query`'s rows, read through the driver (they need no
        type processing). Its text is the same for every page: prepared once per connection
        and run with a generic plan (planning a page took a third of running it), in this
        statement only; set up in one statement with `_plain_plans`' settings."""
        raw = cast(psycopg.Connection, self.session.connection().connection.dbapi_connection)
        # Typed: psycopg sends an int as the smallest type it fits, and each set of types is
        # a statement of its own (the first page, after 0, was prepared and planned again).
        params = {"study_id": Int4(self.study.id), "after": Int8(after)}
        with raw.cursor() as cursor:
            mode = cast(tuple[str, str], cursor.execute(_GENERIC_PLANS).fetchone())[0]
            cursor.execute(_page_sql(self.session.get_bind().dialect, self.items, self.scores,
                                     limit), params, prepare=True)
            rows = cursor.fetchall()
            cursor.execute(_PLAN_MODE, (mode,))
        return rows

    # --- ODM
    def odm_metadata(self) -> bytes:
        return odm.metadata_document(self.catalogue, self.now)

    def odm_file_oid(self, after: int, upto: int, *, snapshot: bool) -> str:
        if snapshot:
            return f"{self.study.code}.snapshot.{upto}.{self.now:%Y%m%dT%H%M%S}"
        return f"{self.study.code}.tx.{after}-{upto}"

    def odm_clinical(self, after: int, upto: int, *, snapshot: bool,
                     prior_file_oid: str | None = None) -> Iterator[bytes]:
        """A Snapshot (as of `upto`) or the Transactional file of (after, upto]; a
        Transactional file names the file that ended at `after` as its PriorFileOID."""
        sites = [(s.code, s.name) for s in self.study.sites]
        extras: Iterator[tuple[int, str, str, Any]] = iter(())
        if snapshot:
            users, extras = [], self._odm_extras()
            query, order = (current_query(self.study.id, upto),
                            ["subject_rank", "assessment_sequence", "id"])
        else:
            users = recorders(self.session, self.study.id, after, upto)
            query, order = versions_query(self.study.id, after, upto), ["audit_seq"]
        if self._postgresql():  # the ItemGroupData and AuditRecord joined by the database
            self._plain_plans()
            query = odm_pg.with_groups(query, order, transactional=not snapshot,
                                       items=self.items, scores=self.scores)
            # read ahead: the database builds the next rows while these are written
            rows = _driver_stream(self.session, query, DRIVER_BATCH, ahead=READ_AHEAD)
        else:
            rows = stream(self.session, with_texts(query, *odm_pg.TEXTS))
        return _closing(odm.clinical_stream(
            self.catalogue, rows, definition, transactional=not snapshot, created=self.now,
            file_oid=self.odm_file_oid(after, upto, snapshot=snapshot), sites=sites,
            recorders=users, items=self.items, scores=self.scores,
            prior_file_oid=None if snapshot else prior_file_oid, extras=extras), rows)

    def _odm_extras(self) -> Iterator[tuple[int, str, str, Any]]:
        """Snapshot events that are not responses: missed/cancelled assessments, infusions."""
        el, catalogue = odm.fragment_el, self.catalogue  # serialised inside the file
        not_done, participants = self._not_done(), self._participants()

        def missed() -> Iterator[tuple[int, str, str, Any]]:
            for row in not_done:
                yield (row["subject_rank"], row["subject_key"], row["site_code"],
                       odm_participation.not_done_event(el, catalogue, row))

        def infusions() -> Iterator[tuple[int, str, str, Any]]:
            for p, schedule in participants:
                for i in schedule:
                    yield (p["subject_rank"], p["subject_key"], p["site_code"],
                           odm.infusion_data(i, p["timezone"]))

        return heapq.merge(missed(), infusions(), key=lambda t: t[0])

    # --- REDCap
    def redcap_records(self) -> Iterator[bytes]:
        return csv_stream(redcap.record_rows(self.catalogue, self._current(), definition,
                                             items=self.items, scores=self.scores,
                                             not_done=self._not_done(),
                                             participants=self._participants()))

    def redcap_dags(self) -> Iterator[bytes]:
        return csv_stream(redcap.dag_rows(self.catalogue))

    def redcap_dictionary(self) -> Iterator[bytes]:
        return csv_stream(redcap.dictionary_rows(self.catalogue))

    def redcap_events(self) -> Iterator[bytes]:
        return csv_stream(redcap.event_rows(self.catalogue))

    def redcap_mapping(self) -> Iterator[bytes]:
        return csv_stream(redcap.mapping_rows(self.catalogue))

    # --- SDTM
    def _not_done(self) -> Iterator[dict[str, Any]]:
        """Missed and cancelled assessments at `now`, by subject rank and sequence."""
        return participation.not_done(
            stream(self.session, participation.not_done_query(self.study.id, self.now)),
            self.now, self.grace)

    def _qs_rows(self) -> Iterator[Row]:
        """The current versions, with only the columns QS reads, in subject rank,
        assessment sequence and response order, and their stored answer values and score
        results (`sdtm.JSON_COLUMNS`, JSON text read by `sdtm`).

        The current versions are found and sorted without their texts (joined to the
        texts, PostgreSQL sorted the wide rows on disk, several times over), which are then
        read by id: on PostgreSQL in the same statement, each sorted row's texts looked up
        as the rows stream (`_with_qs_texts`), elsewhere a batch at a time
        (`_qs_texts_by_id`). On PostgreSQL the rows are read through the driver's own
        server-side cursor: they need no type processing (texts, numbers, datetimes), and
        SQLAlchemy's per-row work was a tenth of the export."""
        query = current_query(self.study.id, self._upto())
        narrow = [name for name in (*sdtm.ROW_COLUMNS, "audit_seq")
                  if name not in sdtm.JSON_COLUMNS]
        query = query.with_only_columns(*(query.selected_columns[name] for name in narrow),
                                        Response.id.label("response_id"),
                                        maintain_column_froms=True)
        if self._postgresql():
            # the lookups' estimated cost made PostgreSQL JIT-compile the statement: 3 s of
            # a 180k-row study's export (for the rest of this read-only transaction)
            self.session.execute(text("SET LOCAL jit = off"))
            # read ahead: the database looks up the next rows' texts while these are written
            return _checked(_driver_stream(self.session, _with_qs_texts(query), DRIVER_BATCH,
                                           ahead=READ_AHEAD))
        return _qs_texts_by_id(self.session, stream(self.session, query))

    def _qs(self) -> Iterator[dict[str, Any]]:
        return sdtm.qs_records(self.catalogue, self._qs_rows(), definition, items=self.items,
                               scores=self.scores, not_done=self._not_done(),
                               sdtmig=self.sdtmig)

    def _qs_xpt(self) -> Iterator[bytes]:
        middles = sdtm.Middles()
        return xpt.xpt_groups(sdtm.qs_split(self.sdtmig), lambda: sdtm.qs_groups(
            self.catalogue, self._qs_rows(), definition, middles, items=self.items,
            scores=self.scores, not_done=self._not_done()), middles.table)

    def _participants(self) -> Iterator[tuple[dict[str, Any], Any]]:
        return participation.with_infusions(self.session, protocol_registry(), self.study.id)

    def _ex(self) -> Iterator[dict[str, Any]]:
        return participation.ex_records(self.catalogue, self._participants())

    def _ds(self) -> Iterator[dict[str, Any]]:
        return participation.ds_records(self.catalogue, self._participants())

    def sdtm_csv(self, domain: str) -> Iterator[bytes]:
        dataset, records = self._sdtm(domain)
        return csv_stream(xpt.csv_rows(dataset, records()))

    def sdtm_xpt(self, domain: str) -> Iterator[bytes]:
        if domain == "qs":
            return self._qs_xpt()
        dataset, records = self._sdtm(domain)
        return xpt.xpt_two_pass(dataset, records)

    def _sdtm(self, domain: str) -> tuple[xpt.Dataset, Any]:
        return {"qs": (sdtm.qs_dataset(self.sdtmig), self._qs),
                "ex": (participation.EX, self._ex),
                "ds": (participation.DS, self._ds)}[domain]

    def _define_input(self) -> define.DefineInput:
        """Widths measured on the data, one streamed pass per dataset, as in the XPT files."""
        widths = {}
        for domain in ("qs", "ex", "ds"):
            dataset, records = self._sdtm(domain)
            widths[dataset.name] = xpt.measure(dataset, records()).widths
        return define.DefineInput(self.catalogue, self.sdtmig, widths)

    def define_xml(self) -> bytes:
        return define.document(self._define_input(), self.now)

    def define_html(self) -> bytes:
        return define.html(self._define_input(), self.now)

    def participation_json(self) -> Iterator[bytes]:
        yield b'{"study": ' + json.dumps(self.study.code).encode() + b', "participants": ['
        for n, (p, schedule) in enumerate(self._participants()):
            record = participation.participation_record(p, schedule)
            yield (b"," if n else b"") + json.dumps(record, ensure_ascii=False).encode()
        yield b"]}"

    # --- FHIR
    def fhir(self, base_url: str) -> FhirStudy:
        return FhirStudy(self.session, self.study, self.catalogue, base_url, items=self.items,
                         scores=self.scores)

    def fhir_history(self, base_url: str, after: int, upto: int,
                     next_url: str | None) -> Iterator[bytes]:
        """Every version since the cursor, in commit order, as the REST API serves it."""
        rows = fhir_store.versions(self.session, self.study.id, after, upto)
        return fhir.bundle_stream(self.fhir(base_url).history_entries(rows), self.now,
                                  next_url, kind="history")

    # --- adherence
    def adherence_csv(self, grace: timedelta) -> Iterator[bytes]:
        session = self.session
        rows = stream(session, adherence.assessment_query(self.study.id))
        return csv_stream(adherence.adherence_rows(adherence.with_counts(session, rows),
                                                   self.now, grace))
