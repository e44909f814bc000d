"""Each export as a generator of bytes: database reads wired to the pure builders (no Flask).

`Export` holds what every export of one study needs; the generators read rows lazily, so a
web response (or the bench script) streams them with flat memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pro_server.edc import adherence, fhir, fhir_store, odm, redcap, sdtm
from pro_server.edc.catalogue import StudyCatalogue, study_catalogue
from pro_server.edc.csvout import csv_stream
from pro_server.edc.fhir_store import FhirStudy
from pro_server.edc.records import (
    Row,
    current_query,
    high_water,
    recorders,
    stream,
    to_record,
    versions_query,
)
from pro_server.instruments import default_registry as instrument_registry
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.participants.models import Participant
from pro_server.protocol.definitions import default_registry as protocol_registry
from pro_server.studies.models import Study


@lru_cache(maxsize=64)
def definition(code: str, version: str) -> InstrumentDefinition:
    return instrument_registry().get(code, version)


def catalogue_for(study: Study) -> StudyCatalogue:
    return study_catalogue(study.code, study.protocol_code, study.registry_id,
                           [s.code for s in study.sites],
                           instrument_registry(), protocol_registry())


@dataclass
class Export:
    session: Session
    study: Study
    now: datetime
    items: bool = True
    scores: bool = True
    as_of: int | None = None  # seq bound of the current-data exports (default: the latest)

    @property
    def catalogue(self) -> StudyCatalogue:
        return catalogue_for(self.study)

    def _current(self, upto: int | None = None) -> Iterator[Row]:
        if upto is None:
            upto = self.as_of if self.as_of is not None else high_water(self.session,
                                                                        self.study.id)
        return stream(self.session, current_query(self.study.id, upto))

    def _versions(self, after: int, upto: int) -> Iterator[Row]:
        return stream(self.session, versions_query(self.study.id, after, upto))

    # --- pull API
    def page(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        """(records, last seq, more?) of one page; bounded by `limit`."""
        walk = self.session.get_bind().dialect.name == "sqlite"
        rows = list(stream(self.session, versions_query(self.study.id, after, limit=limit + 1,
                                                        seq_walk=walk)))
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1]["audit_seq"] if rows else after
        return [to_record(r, items=self.items, scores=self.scores) for r in rows], last, more

    # --- ODM
    def odm_metadata(self) -> bytes:
        return odm.metadata_document(self.catalogue, self.now)

    def odm_clinical(self, after: int, upto: int, *, snapshot: bool) -> Iterator[bytes]:
        sites = [(s.code, s.name) for s in self.study.sites]
        stamp = f"{self.now:%Y%m%dT%H%M%S}"
        if snapshot:
            rows, users, file_oid = self._current(upto), [], f"{self.study.code}.snapshot.{stamp}"
        else:
            rows = self._versions(after, upto)
            users = recorders(self.session, self.study.id, after, upto)
            file_oid = f"{self.study.code}.tx.{after}-{upto}"
        return odm.clinical_stream(self.catalogue, rows, definition, transactional=not snapshot,
                                   created=self.now, file_oid=file_oid, sites=sites,
                                   recorders=users, items=self.items, scores=self.scores)

    # --- REDCap
    def redcap_records(self) -> Iterator[bytes]:
        return csv_stream(redcap.record_rows(self.catalogue, self._current(), definition,
                                             items=self.items, scores=self.scores))

    def redcap_dictionary(self) -> Iterator[bytes]:
        return csv_stream(redcap.dictionary_rows(self.catalogue))

    def redcap_events(self) -> Iterator[bytes]:
        return csv_stream(redcap.event_rows(self.catalogue))

    def redcap_mapping(self) -> Iterator[bytes]:
        return csv_stream(redcap.mapping_rows(self.catalogue))

    # --- SDTM
    def _qs(self) -> Iterator[dict[str, Any]]:
        return sdtm.qs_records(self.catalogue, self._current(), definition, items=self.items,
                               scores=self.scores)

    def qs_csv(self) -> Iterator[bytes]:
        return csv_stream(sdtm.csv_rows(self._qs()))

    def qs_xpt(self) -> Iterator[bytes]:
        longest = self.session.scalar(select(func.max(func.length(Participant.subject_key)))
                                      .where(Participant.study_id == self.study.id)) or 1
        return sdtm.xpt_stream(self._qs(), sdtm.xpt_layout(self.catalogue, longest))

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
