"""The rows every EDC export is built from, read in commit order, and the opaque cursor.

A row is one response version joined with its subject, site and assessment, as a plain dict,
so the format builders never touch the database. Rows are streamed (`yield_per`: a
server-side cursor on PostgreSQL), so memory does not grow with the study.

Commit order: `Response.audit_seq` is the chain position of the audit event written in the
same transaction, given by the one sealer at a time after that transaction committed (0,
UNSEALED, until then: never read here), so once a reader sees seq n every seq below n is
already committed and sealed. Paging on `audit_seq > cursor` therefore never skips a row
committed concurrently or late, and never repeats one (docs/audit-sealing.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, RowMapping, Select, func, select
from sqlalchemy.orm import Session, aliased

from pro_server.changes.models import ChangeRequest
from pro_server.participants.models import Participant
from pro_server.responses.export_text import local_text, utc_text
from pro_server.responses.models import UNSEALED, Response
from pro_server.responses.models import ResponseExport as ExportTexts
from pro_server.schedule.models import Assessment, Infusion
from pro_server.staff.models import StaffUser
from pro_server.studies.models import Site

Row = dict[str, Any]
BATCH = 1000
Previous = aliased(Response)
_Next = aliased(Response)
FirstDose = aliased(Infusion)

_COLUMNS = (
    Response.id, Response.audit_seq, Response.version, Response.replaces_id,
    Response.is_current, Response.instrument_code, Response.instrument_version,
    Response.language, Response.answers, Response.scores, Response.algorithm,
    Response.algorithm_version, Response.started_at, Response.submitted_at,
    Response.recorded_at, Response.recorded_by, Response.change_reason,
    Response.change_source, Response.assessment_id,
    Participant.subject_key, Site.code.label("site_code"),
    Assessment.code.label("assessment_code"), Assessment.window_start, Assessment.window_end,
    Assessment.timezone, Previous.answers.label("prev_answers"),
    Previous.scores.label("prev_scores"), Assessment.sequence.label("assessment_sequence"),
    FirstDose.given_at_local.label("first_dose_local"),
    StaffUser.email.label("requester_email"), StaffUser.role.label("requester_role"),
)

# What the pull API's record reads: no previous version, no first dose; its items and scores
# as the texts stored with the version (`texts_of` None: it has none).
_RECORD_COLUMNS = (
    Response.id, Response.audit_seq, Response.version, Response.replaces_id,
    Response.instrument_code, Response.instrument_version, Response.language,
    Response.algorithm, Response.algorithm_version, Response.started_at,
    Response.submitted_at, Response.recorded_at, Response.recorded_by,
    Response.change_reason, Response.change_source, Participant.subject_key,
    Site.code.label("site_code"), Assessment.code.label("assessment_code"),
    Assessment.window_start, Assessment.window_end, Assessment.timezone,
    StaffUser.email.label("requester_email"), StaffUser.role.label("requester_role"),
    ExportTexts.response_id.label("texts_of"), ExportTexts.items_json,
    ExportTexts.unanswered_json, ExportTexts.scores_json, ExportTexts.zone,
    ExportTexts.started_utc, ExportTexts.started_local, ExportTexts.submitted_utc,
    ExportTexts.submitted_local, ExportTexts.recorded_utc, ExportTexts.recorded_local,
)


class InvalidCursor(ValueError):
    """The cursor was not issued by this service for this study."""


class CursorCodec:
    """Opaque cursors: the last audit sequence number read, signed with the app's secret."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="pro-edc-cursor")

    def encode(self, study_id: int, seq: int, file_oid: str | None = None) -> str:
        """`file_oid`: the ODM file that ends at `seq`, the next file's PriorFileOID."""
        data: dict[str, Any] = {"v": 1, "s": study_id, "q": seq}
        if file_oid:
            data["f"] = file_oid
        return self._serializer.dumps(data)

    def _load(self, token: str, study_id: int) -> dict[str, Any]:
        try:
            data = self._serializer.loads(token)
        except BadSignature as exc:
            raise InvalidCursor("cursor is not valid") from exc
        if not isinstance(data, dict) or data.get("v") != 1 or data.get("s") != study_id:
            raise InvalidCursor("cursor belongs to another study or version")
        seq = data.get("q")
        if not isinstance(seq, int) or seq < 0:
            raise InvalidCursor("cursor is not valid")
        return data

    def decode(self, token: str | None, study_id: int, high_water: int | None = None) -> int:
        """The seq of a cursor; one beyond `high_water` (the study's latest) is refused."""
        if not token:
            return 0
        seq = int(self._load(token, study_id)["q"])
        if high_water is not None and seq > high_water:
            raise InvalidCursor("cursor is ahead of the study's data (not issued here)")
        return seq

    def prior_file(self, token: str | None, study_id: int) -> str | None:
        """The FileOID of the ODM file that issued the cursor, if a file did."""
        if not token:
            return None
        prior = self._load(token, study_id).get("f")
        return prior if isinstance(prior, str) else None


def _base(study_id: int | ColumnElement[int], *, full: bool = True) -> Select:
    """`full`: every column of `_COLUMNS` (the file exports); else the pull API record's,
    without the joins to the previous version and the first dose."""
    # The (study_id, audit_seq) index gives a study's versions in commit order: a page reads
    # `limit` rows and stops instead of sorting the whole study (both backends).
    query = (select(*(_COLUMNS if full else _RECORD_COLUMNS))
             .join(Participant, Participant.id == Response.participant_id)
             .join(Site, Site.id == Response.site_id)
             .join(Assessment, Assessment.id == Response.assessment_id))
    if full:
        query = (query.outerjoin(Previous, Previous.id == Response.replaces_id)
                 .outerjoin(FirstDose, first_dose_join(Participant.id)))
    else:
        query = with_texts(query)
    return (query.outerjoin(ChangeRequest, ChangeRequest.new_response_id == Response.id)
            .outerjoin(StaffUser, StaffUser.id == ChangeRequest.requested_by_id)
            .where(Response.study_id == study_id))


def with_texts(query: Select, *columns: Any) -> Select:
    """The query with the versions' stored export texts (`ResponseExport`; `columns` of it):
    outer-joined, so a version without them is read (`texts_of` None) and refused by the
    export (`MissingExportTexts`), never left out."""
    return (query.outerjoin(ExportTexts, ExportTexts.response_id == Response.id)
            .add_columns(*columns))


class MissingExportTexts(LookupError):
    """A version has no stored export texts (`response_export`): exported without them its
    answers would be missing, so the export stops instead."""


def check_texts(row: Mapping[str, Any]) -> None:
    if row["texts_of"] is None:
        raise MissingExportTexts(f"the response version of audit seq {row['audit_seq']} "
                                 "has no stored export texts")


def first_dose_join(participant_id: Any) -> Any:
    """ON clause of the participant's first infusion as given (the SDTM reference start)."""
    return ((FirstDose.participant_id == participant_id) & (FirstDose.number == 1)
            & (FirstDose.status == "given"))


def versions_query(study_id: int | ColumnElement[int], after: int | ColumnElement[int],
                   upto: int | None = None, limit: int | ColumnElement[int] | None = None, *,
                   full: bool = True) -> Select:
    """Response versions committed after seq `after` (up to `upto`), in commit order
    (`full=False`: only what the pull API's record shows; on PostgreSQL its pages read the
    same rows through `records_pg.page_query`, which joins them with memoized texts). Study,
    seq and limit can be SQL expressions."""
    query = (_base(study_id, full=full).where(Response.audit_seq > after)
             .order_by(Response.audit_seq))
    if upto is not None:
        query = query.where(Response.audit_seq <= upto)
    return query.limit(limit) if limit is not None else query


def current_query(study_id: int, upto: int) -> Select:
    """The version of every response that was current once seq `upto` was committed, by
    subject, assessment, then instrument order.

    Bounded like the incremental exports, so a snapshot (or a CSV) holds exactly what its
    audited `as_of_seq` and its next cursor say: a correction committed while the export is
    being read is in the next incremental pull, not in both.
    """
    superseded = select(_Next.id).where(
        _Next.assessment_id == Response.assessment_id,
        _Next.instrument_code == Response.instrument_code,
        _Next.version == Response.version + 1, _Next.audit_seq.between(UNSEALED + 1, upto))
    rank = subject_rank(study_id)
    return (_base(study_id).add_columns(rank.c.subject_rank)
            .join(rank, rank.c.participant_id == Participant.id)
            .where(Response.audit_seq.between(UNSEALED + 1, upto), ~superseded.exists())
            .order_by(rank.c.subject_rank, Assessment.sequence, Response.id))


def subject_rank(study_id: int) -> Any:
    """Each participant's place in subject-key order, as the database collates it: streams
    of different tables ordered by it can be merged in Python without comparing strings."""
    return (select(Participant.id.label("participant_id"),
                   func.row_number().over(order_by=(Participant.subject_key, Participant.id))
                   .label("subject_rank"))
            .where(Participant.study_id == study_id).subquery())


def high_water(session: Session, study_id: int) -> int:
    """The highest committed seq of the study's responses: an export's fixed upper bound."""
    return session.scalar(select(func.max(Response.audit_seq))
                          .where(Response.study_id == study_id)) or 0


def stream(session: Session, query: Select, batch: int | None = BATCH) -> Iterator[Row]:
    """The query's rows as dicts, `batch` at a time from a server-side cursor (None: one
    client-side fetch, for a bounded page). Core rows: no ORM loading per row."""
    options = {"yield_per": batch} if batch else {}
    result = session.connection().execute(query, execution_options=options)
    keys = tuple(result.keys())
    try:
        for row in result:
            yield dict(zip(keys, row, strict=True))
    finally:  # also when the export stops early (an error): the server-side cursor closes
        result.close()


def requester(row: RowMapping | Mapping[str, Any]) -> str | None:
    """Who asked for a correction (its change request), as staff actors are labelled."""
    if row.get("requester_email") is None:
        return None
    role = row["requester_role"]
    return f"{row['requester_email']} ({getattr(role, 'value', role)})"


def recorders(session: Session, study_id: int, after: int, upto: int) -> list[str]:
    """Who recorded, or asked for, the versions in a range (ODM AdminData needs every User
    up front)."""
    in_range = (Response.study_id == study_id, Response.audit_seq > after,
                Response.audit_seq <= upto)
    users = set(session.scalars(select(Response.recorded_by).distinct().where(*in_range)))
    asked = session.execute(
        select(StaffUser.email.label("requester_email"),
               StaffUser.role.label("requester_role")).distinct()
        .join(ChangeRequest, ChangeRequest.requested_by_id == StaffUser.id)
        .join(Response, Response.id == ChangeRequest.new_response_id).where(*in_range))
    users.update(filter(None, (requester(r._mapping) for r in asked)))
    return sorted(users)


# --- the pull API's record -----------------------------------------------------------------


def instant(at: datetime | None, tz: str) -> dict[str, str] | None:
    """An instant in UTC, with the participant's local wall time and offset beside it."""
    if at is None:
        return None
    utc, local = _instant_texts(at, tz)
    return {"utc": utc, "local": local}


@lru_cache(maxsize=4096)
def _instant_texts(at: datetime, tz: str) -> tuple[str, str]:
    """An assessment's window bounds repeat on each of its responses, and a response is often
    started, submitted and recorded at one instant: each is formatted once."""
    return utc_text(at), local_text(at, tz)


def timing(row: Mapping[str, Any]) -> dict[str, Any]:
    late = row["submitted_at"] - row["window_end"]
    seconds = max(0, int(late.total_seconds()))
    return {"status": "late" if seconds > 0 else "on_time", "late_by_seconds": seconds}


def to_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON record of one response version, but its stored texts (`record_text`)."""
    tz = row["timezone"]
    return {
        "id": row["id"],
        "subject_key": row["subject_key"],
        "site": row["site_code"],
        "assessment": {
            "code": row["assessment_code"],
            "window_start": instant(row["window_start"], tz),
            "window_end": instant(row["window_end"], tz),
            "timezone": tz,
        },
        "instrument": {"code": row["instrument_code"], "version": row["instrument_version"]},
        "language": row["language"],
        "version": row["version"],
        "replaces": None if row["replaces_id"] is None else {
            "id": row["replaces_id"], "version": row["version"] - 1},
        "started_at": instant(row["started_at"], tz),
        "submitted_at": instant(row["submitted_at"], tz),
        "recorded_at": instant(row["recorded_at"], tz),
        "timing": timing(row),
        "change": None if row["replaces_id"] is None else {
            "reason": row["change_reason"], "source": row["change_source"],
            "by": row["recorded_by"], "requested_by": requester(row)},
        "scoring": {"algorithm": row["algorithm"],
                    "algorithm_version": row["algorithm_version"]},
    }


def stored_texts(*, items: bool, scores: bool) -> list[tuple[str, str]]:
    """(record key, `ResponseExport` column) of the stored texts a record carries, in order
    (items and their unanswered reasons, scores: each left out without its scope)."""
    return ([("items", "items_json"), ("unanswered", "unanswered_json")] if items else []) + (
        [("scores", "scores_json")] if scores else [])


def record_text(row: Mapping[str, Any], *, items: bool, scores: bool) -> str:
    """The record's JSON text: `to_record`'s with the version's stored texts."""
    head = json.dumps(to_record(row), ensure_ascii=False)[:-1]
    return head + "".join(f", {json.dumps(key)}: {row[column]}"
                          for key, column in stored_texts(items=items, scores=scores)) + "}"
