"""Participants' answers: one immutable response version per (assessment, instrument) change.

Version 1 is what the participant submitted; a data-change approved by an investigator adds
version 2, 3, ... that replaces the one before, never overwriting it. `audit_seq` is the
chain position (`seq`) of the audit event written in the same transaction, given by the
sealer once that event is sealed (UNSEALED, 0, until then); it orders records for the EDC
cursor: a version gets its seq only once every smaller seq is committed
(docs/audit-sealing.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.db import Base, JSONText, UpdatedAt
from pro_server.schedule.models import Assessment

UNSEALED = 0  # audit_seq of a version whose audit event the sealer has not reached yet
# The audit events that create a response version (entity_id: the version's id).
VERSION_EVENT_ACTIONS = ("response.submit", "response.correct")


class Response(Base):
    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("assessment_id", "instrument_code", "version"),
        # A study's versions in commit order: an export page reads `limit` rows of it and
        # stops, instead of sorting the whole study (also serves every lookup by study).
        Index("ix_response_study_id_audit_seq", "study_id", "audit_seq"),
        # What response_score's foreign key refers to (a version's id with its study and
        # site): a score row's copies of them are checked with the id, in one look-up.
        Index("uq_response_id_study_id_site_id", "id", "study_id", "site_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    is_current: Mapped[bool] = mapped_column(default=True, index=True)
    # {item_id: {"value": ..., "answered_at": ISO-8601 UTC}}
    answers: Mapped[Any] = mapped_column(JSONText())
    # ScoreResult.as_dict(): instrument, versions, algorithm and every score with value/reason
    scores: Mapped[Any] = mapped_column(JSONText())
    algorithm: Mapped[str] = mapped_column(String(40))
    algorithm_version: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(254))
    change_reason: Mapped[str | None] = mapped_column(String(500))
    change_source: Mapped[str | None] = mapped_column(String(200))
    # Indexed with study_id only (ix_response_study_id_audit_seq): an index on audit_seq alone
    # let PostgreSQL page a study by walking every study's versions in seq order.
    audit_seq: Mapped[int] = mapped_column(BigInteger)

    assessment: Mapped[Assessment] = relationship()


class ResponseScore(Base):
    """One score of a current response version, as a number: the study-wide score report
    reads this narrow table instead of decoding every response's `scores` JSON.

    Written in the transaction that stores the version (`responses.score_table`); the rows of
    a version it supersedes are deleted then, so the table holds exactly the current
    versions' scores, one row per key of their `scores["scores"]`. `value` None: the manual
    leaves the score unscored (its reason stays in the JSON). Assessment code, study, site and
    submission time are copied from the version (none of them ever changes) so the report
    filters and groups without a join. One foreign key checks the id with its study and site
    copies against the version's row (they must be the version's own): one look-up per row
    written, where a key per column cost three (a submission writes ~27 rows).
    """

    __tablename__ = "response_score"
    __table_args__ = (
        # The report counts each value of each score per assessment code in one study, for
        # the caller's sites: grouped in the index's order and filtered by its last columns,
        # it is read from the index alone, without a sort.
        Index("ix_response_score_report", "study_id", "instrument_code", "score_key",
              "assessment_code", "value", "site_id", "submitted_at"),
        ForeignKeyConstraint(["response_id", "study_id", "site_id"],
                             ["response.id", "response.study_id", "response.site_id"]),
    )

    response_id: Mapped[int] = mapped_column(primary_key=True)
    score_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    study_id: Mapped[int]
    site_id: Mapped[int]
    assessment_code: Mapped[str] = mapped_column(String(20))
    instrument_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    submitted_at: Mapped[datetime]


class ResponseExport(Base):
    """What the EDC exports take from a response version's answers and scores, as the text
    they write, built once when the version is stored (`responses.export_text`): a version
    never changes, so an export joins these texts with what can (subject key, site,
    assessment window and time zone) instead of decoding and formatting every version's
    JSON again. One row per version, written in the transaction that stores it.

    `items_json`, `unanswered_json`, `scores_json`: the records API's `items`, `unanswered`
    and `scores` objects. `odm_items`, `odm_scores`: the ODM answers and scores
    ItemGroupData ('' when it would be empty); `odm_items_update`, `odm_scores_update`: the
    same in a Transactional file's Update of a correction, with `TransactionType="Remove"`
    for what it emptied (NULL for version 1 and when the correction removes nothing).

    `started_utc`, `submitted_utc`, `recorded_utc`: the version's instants in UTC (ISO 8601
    with a Z); `started_local`, ...: the same as wall time and offset in `zone`, the
    assessment's time zone when the version was stored (an export formats them again for an
    assessment whose zone has changed since).
    """

    __tablename__ = "response_export"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    items_json: Mapped[str] = mapped_column(Text)
    unanswered_json: Mapped[str] = mapped_column(Text)
    scores_json: Mapped[str] = mapped_column(Text)
    odm_items: Mapped[str] = mapped_column(Text)
    odm_scores: Mapped[str] = mapped_column(Text)
    odm_items_update: Mapped[str | None] = mapped_column(Text)
    odm_scores_update: Mapped[str | None] = mapped_column(Text)
    zone: Mapped[str] = mapped_column(String(64))
    started_utc: Mapped[str] = mapped_column(String(40))
    started_local: Mapped[str] = mapped_column(String(40))
    submitted_utc: Mapped[str] = mapped_column(String(40))
    submitted_local: Mapped[str] = mapped_column(String(40))
    recorded_utc: Mapped[str] = mapped_column(String(40))
    recorded_local: Mapped[str] = mapped_column(String(40))


class Draft(UpdatedAt, Base):
    """Answers saved as the participant goes, before the assessment is submitted."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("assessment_id", "instrument_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"))
    instrument_code: Mapped[str] = mapped_column(String(40))
    answers: Mapped[Any] = mapped_column(JSONText())
    language: Mapped[str] = mapped_column(String(8))
    position: Mapped[Any] = mapped_column(JSONText(), nullable=True)


class Submission(Base):
    """One accepted submission of an assessment, found again by its idempotency key."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
