"""Reading one study's FHIR resources from the database (no Flask): read, version read,
history, the QuestionnaireResponse search, and the incremental `_history` export.

Every resource is built by `fhir.py` from the same rows the other EDC exports read
(`records.py`), with one more column: the id of the response's version 1, its logical id.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from pro_server.edc import fhir
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.fhir_api import Search
from pro_server.edc.records import Row, current_query, stream, versions_query
from pro_server.errors import NotFound
from pro_server.instruments import default_registry
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.studies.models import Study

_First = aliased(Response)
FIRST_ID = (select(_First.id)
            .where(_First.assessment_id == Response.assessment_id,
                   _First.instrument_code == Response.instrument_code, _First.version == 1)
            .scalar_subquery().label("first_id"))
_QR_ID = re.compile(r"^qr-(\d{1,18})$")
_OBS_ID = re.compile(r"^obs-(\d{1,18})-([a-z0-9-]{1,40})$")
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
KINDS = ("QuestionnaireResponse", "Observation")


def with_logical_id(query: Select) -> Select:
    return query.add_columns(FIRST_ID)


def versions(session: Session, study_id: int, after: int, upto: int) -> Iterator[Row]:
    """Every version committed in (after, upto], in commit order (the `_history` export)."""
    return stream(session, with_logical_id(versions_query(study_id, after, upto)))


@dataclass
class FhirStudy:
    """One study's resources as one EDC client may see them."""

    session: Session
    study: Study
    catalogue: StudyCatalogue
    base_url: str
    items: bool = True
    scores: bool = True

    def _resources(self, row: Row) -> list[dict[str, Any]]:
        d = default_registry().get(row["instrument_code"], row["instrument_version"])
        return fhir.response_resources(self.catalogue.study_code, d, row, self.base_url,
                                       items=self.items, scores=self.scores)

    # --- one resource and its versions
    def _chain(self, first_id: int) -> list[Row]:
        """Every version of one response, oldest first; [] if it is not this study's."""
        first = self.session.get(Response, first_id)
        if first is None or first.study_id != self.study.id or first.version != 1:
            return []
        query = versions_query(self.study.id, 0).where(
            Response.assessment_id == first.assessment_id,
            Response.instrument_code == first.instrument_code)
        return list(stream(self.session, with_logical_id(query)))

    def history(self, kind: str, rid: str) -> list[dict[str, Any]]:
        """Every version of a QuestionnaireResponse or Observation, oldest first."""
        found: list[dict[str, Any]] = []
        if kind == "QuestionnaireResponse" and (match := _QR_ID.match(rid)):
            found = [self._resources(row)[0] for row in self._chain(int(match.group(1)))]
        elif kind == "Observation" and (match := _OBS_ID.match(rid)):
            chain = self._chain(int(match.group(1)))
            d = default_registry().get(chain[0]["instrument_code"],
                                       chain[0]["instrument_version"]) if chain else None
            spec = fhir.score_spec(d, match.group(2)) if d else None
            if d and spec:
                code = self.catalogue.study_code
                found = [fhir.observation(code, d, spec, row, self.base_url) for row in chain]
        if not found:
            raise NotFound(f"{kind}/{rid} not found")
        return found

    def read(self, kind: str, rid: str) -> dict[str, Any]:
        return self.history(kind, rid)[-1]

    def vread(self, kind: str, rid: str, vid: str) -> dict[str, Any]:
        for resource in self.history(kind, rid):
            if resource["meta"]["versionId"] == vid:
                return resource
        raise NotFound(f"{kind}/{rid} has no version {vid}")

    def patient(self, rid: str) -> dict[str, Any]:
        created: datetime | None = self.session.scalar(
            select(Participant.created_at).where(Participant.study_id == self.study.id,
                                                 Participant.subject_key == rid))
        if created is None:
            raise NotFound(f"Patient/{rid} not found")
        return fhir.patient(self.catalogue.study_code, rid, created)

    def questionnaires(self) -> list[dict[str, Any]]:
        return [fhir.questionnaire(d, self.base_url) for d in self.catalogue.definitions]

    def questionnaire(self, rid: str) -> dict[str, Any]:
        for d in self.catalogue.definitions:
            if fhir.fhir_id(d.code) == rid:
                return fhir.questionnaire(d, self.base_url)
        raise NotFound(f"Questionnaire/{rid} not found")

    # --- search
    def search(self, search: Search, upto: int, after: int
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
        """(matches, included Observations, position of the next page or None): the
        responses current once `upto` was committed, in commit order after `after`."""
        query = (current_query(self.study.id, upto).order_by(None)
                 .order_by(Response.audit_seq).where(Response.audit_seq > after)
                 .limit(search.count + 1))
        if search.subject is not None:
            query = query.where(Participant.subject_key == search.subject)
        for bound in search.updated:
            query = query.where(_OPS[bound.op](Response.recorded_at, bound.at))
        rows = list(stream(self.session, with_logical_id(query)))
        more = len(rows) > search.count
        rows = rows[:search.count]
        matches, included = [], []
        for row in rows:
            resources = self._resources(row)
            matches.append(resources[0])
            if search.revinclude:
                included += resources[1:]
        return matches, included, rows[-1]["audit_seq"] if more else None

    # --- the incremental export
    def history_entries(self, rows: Iterator[Row]) -> Iterator[dict[str, Any]]:
        for row in rows:
            for resource in self._resources(row):
                yield fhir.history_entry(self.base_url, resource)
