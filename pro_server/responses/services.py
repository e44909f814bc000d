"""Storing and scoring responses: drafts, the one submission, and new versions on change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, Text, bindparam, delete, select, type_coerce
from sqlalchemy.exc import IntegrityError

from pro_server.audit.services import event_row, record_rows
from pro_server.context import ServiceContext
from pro_server.db import (
    JSONText,
    JSONWritten,
    attach_stored,
    insert_now,
    insert_rows_now,
    json_object_written,
    json_written,
    update_now,
    update_row_now,
)
from pro_server.errors import Conflict, InvalidInput
from pro_server.instruments import (
    InstrumentDefinition,
    InvalidAnswersError,
    default_registry,
    score,
    validate_answers,
)
from pro_server.protocol.status import ACCEPTS_RESPONSES
from pro_server.responses.export_text import store_export_texts
from pro_server.responses.models import (
    UNSEALED,
    Draft,
    Response,
    Submission,
)
from pro_server.responses.score_table import store_current_scores
from pro_server.schedule import events
from pro_server.schedule.assessments import AssessmentRow, grace, record_status_now
from pro_server.schedule.models import Assessment


def _stamp(values: Mapping[str, Any], at: datetime,
           previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Answers with their own timestamps; an unchanged answer keeps its first timestamp."""
    previous = previous or {}
    answered_at = at.isoformat()  # once, not once per answer
    stamped = {}
    for item, value in values.items():
        old = previous.get(item)
        stamped[item] = old if old and old["value"] == value else {
            "value": value, "answered_at": answered_at}
    return stamped


def _check_open(ctx: ServiceContext, a: Assessment | AssessmentRow, *, finishing: bool) -> None:
    status = a.status_at(ctx.now(), grace(ctx))
    if status in ACCEPTS_RESPONSES:
        return
    if status == "missed" and finishing:
        raise Conflict("This survey's window has closed", {"state": "closed"})
    raise Conflict(f"This survey is {status}", {"state": status})


def _validate(instrument: str, answers: Mapping[str, Any], *, complete: bool, allowed: list[str]):
    if instrument not in allowed:
        raise InvalidInput.field("instrument", f"{instrument} is not part of this assessment")
    definition = default_registry().get(instrument)
    errors = validate_answers(definition, answers, complete=complete)
    if errors:
        raise InvalidInput(f"Invalid answers for {instrument}",
                           {"json": {"answers": {instrument: errors}}})
    return definition


def response_errors(definition: InstrumentDefinition,
                    values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The one check of a whole response version, whatever the path (participant's submission,
    data-change request, approval): every answer valid, every required item that applies
    answered, nothing answered that does not apply (``enable_when``)."""
    return validate_answers(definition, values, complete=True)


def with_change(current: Response, item_id: str, new_value: Any) -> dict[str, Any]:
    """The answer values of ``current`` with one answer changed (``None`` removes it)."""
    values = {k: v["value"] for k, v in current.answers.items()}
    if new_value is None:
        values.pop(item_id, None)
    else:
        values[item_id] = new_value
    return values


def change_messages(errors: Mapping[str, list[str]], item_id: str) -> list[str]:
    """Messages about a one-answer change; problems it causes elsewhere name their item."""
    messages = list(errors.get(item_id, []))
    messages += [f"{other}: {message}" for other, found in sorted(errors.items())
                 if other != item_id for message in found]
    return messages


def check_change(definition: InstrumentDefinition, current: Response, item_id: str,
                 new_value: Any) -> None:
    """Refuse a one-answer change whose whole new version the participant path would refuse
    (so a required answer is never removed, and nothing stays that no longer applies)."""
    errors = response_errors(definition, with_change(current, item_id, new_value))
    if errors:
        raise InvalidInput.field("new_value", *change_messages(errors, item_id))


@dataclass(frozen=True)
class SavedDraft:
    """What a draft save stored: the answers, each with its time, and when."""

    answers: dict[str, Any]
    updated_at: datetime


class DraftRow(NamedTuple):
    """The columns of a draft a save reads, read without an ORM object (`save_draft`
    updates its row by id; `DRAFT_ROW_COLUMNS`). The answers are read as the column's text
    and decoded when read (`answers`): a save reads every draft of its assessment, for
    their positions, and the answers of one instrument's at most."""

    id: int
    instrument_code: str
    answers_text: str
    position: Any

    @property
    def answers(self) -> Any:
        """The answers as the `answers` column reads them (`JSONText`)."""
        return _ANSWERS_TYPE.process_result_value(self.answers_text, None)


_DRAFTS = cast(Table, Draft.__table__)
_ANSWERS_TYPE = cast(JSONText, _DRAFTS.c.answers.type)
DRAFT_ROW_COLUMNS = (_DRAFTS.c.id, _DRAFTS.c.instrument_code,
                     type_coerce(_DRAFTS.c.answers, Text), _DRAFTS.c.position)


def save_draft(ctx: ServiceContext, a: Assessment | AssessmentRow, instrument: str,
               answers: Mapping[str, Any], language: str, position: Any = None, *,
               drafts: Mapping[str, Draft | DraftRow] | None = None) -> SavedDraft:
    """Save answers so far (partial answers are fine); starts the assessment. `drafts`: the
    assessment's drafts when the caller has read them already (`drafts_of`, or rows read
    with the assessment's row: `AssessmentRow`, `DraftRow`)."""
    _check_open(ctx, a, finishing=True)
    _validate(instrument, answers, complete=False, allowed=list(a.instruments))
    now = ctx.now()
    if a.started_at is None:
        record_status_now(ctx, a, "in_progress", "participant", {"started_at": now})
        record_rows(ctx, [event_row(ctx, "assessment.start", "assessment", a.id,
                                    after={"code": a.code}, study_id=a.study_id,
                                    site_id=a.site_id)])
    draft = drafts.get(instrument) if drafts is not None else ctx.session.scalar(select(
        Draft).where(Draft.assessment_id == a.id, Draft.instrument_code == instrument))
    # Written with one Core statement each (no unit of work): a save is the participant's
    # most frequent request.
    if draft is None:
        # No object made and attached (`insert_now`'s work, its id read back): the row is
        # all a new draft needs, and what the save answers with.
        row = {"assessment_id": a.id, "instrument_code": instrument, "language": language,
               "position": position, "answers": _stamp(answers, now),
               "updated_at": ctx.now()}
        insert_rows_now(ctx.session, _DRAFTS, [row])
        return SavedDraft(row["answers"], row["updated_at"])
    previous = draft.answers
    merged_values = {k: v["value"] for k, v in (previous or {}).items()}
    merged_values.update(answers)
    values = {"answers": _stamp(merged_values, now, previous), "language": language,
              "position": position}
    if isinstance(draft, DraftRow):
        written = update_row_now(ctx.session, Draft, draft.id, values)
        return SavedDraft(written["answers"], written["updated_at"])
    update_now(ctx.session, draft, values)
    return SavedDraft(draft.answers, draft.updated_at)


def drafts_of(ctx: ServiceContext, a: Assessment | AssessmentRow) -> dict[str, Draft]:
    return {d.instrument_code: d for d in ctx.session.scalars(
        select(Draft).where(Draft.assessment_id == a.id))}


def payload_hash(answers: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()


_SUBMISSION_BY_KEY = select(Submission).where(  # built once; the key bound per call
    Submission.idempotency_key == bindparam("key"))
_DELETE_DRAFTS = delete(_DRAFTS).where(  # built once
    _DRAFTS.c.assessment_id == bindparam("assessment_id"))


def submitted_before(ctx: ServiceContext, a: Assessment,
                     idempotency_key: str) -> Submission | None:
    """The submission stored with this idempotency key (a resend of it), or None;
    Conflict when the key is another assessment's."""
    existing = ctx.session.scalar(_SUBMISSION_BY_KEY, {"key": idempotency_key})
    if existing is not None and existing.assessment_id != a.id:
        raise Conflict("This idempotency key belongs to another submission")
    return existing


def submit(ctx: ServiceContext, a: Assessment, idempotency_key: str,
           answers: Mapping[str, Mapping[str, Any]], language: str, *,
           drafted: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Submission, bool]:
    """Store the whole assessment once; (submission, created). A replay returns the first.
    `drafted`: the answers of the assessment's drafts by instrument (each draft's `answers`)
    when the caller has read them already; else its drafts are read here.

    A resend is answered with what was stored whatever it holds, and a key of another
    assessment's is refused before anything else (`submitted_before`); the key is looked up
    only when the submission would be refused (a resend finds its survey completed) or its
    INSERT meets the key (a caller that catches the Conflict then looks it up): a first
    submission, the usual one, is not a round trip longer for it."""
    try:
        loaded, drafted, merged = _checked(ctx, a, answers, drafted)
    except (Conflict, InvalidInput):
        existing = submitted_before(ctx, a, idempotency_key)
        if existing is not None:
            return existing, False
        raise
    now = ctx.now()
    started = a.started_at or now
    submission = Submission(assessment_id=a.id, idempotency_key=idempotency_key,
                            payload_hash=payload_hash(answers), received_at=now)
    try:
        insert_now(ctx.session, [submission])
    except IntegrityError as exc:  # a replay of the same submission stored first, or a
        # key of another's: the caller looks it up (`submitted_before`)
        raise Conflict("This survey was already submitted", {"state": "completed"}) from exc
    _store_versions(ctx, a, [_new_version(
        ctx, a, instrument, _stamp(values, now, drafted.get(instrument)),
        language=language, started_at=started, submitted_at=now, replaces=None,
        recorded_by="participant") for instrument, values in merged.items()])
    record_status_now(ctx, a, "completed", "participant",
                      {"started_at": started, "completed_at": now})
    if drafted:  # one Core DELETE: the unit of work would delete them one by one, by id
        ctx.session.execute(_DELETE_DRAFTS, {"assessment_id": a.id})
        for draft in loaded:  # read here as objects: not left in the session as stored
            ctx.session.expunge(draft)
    events.assessment_changed(ctx, a)
    return submission, True


def _checked(ctx: ServiceContext, a: Assessment, answers: Mapping[str, Mapping[str, Any]],
             drafted: Mapping[str, Mapping[str, Any]] | None
             ) -> tuple[list[Draft], Mapping[str, Mapping[str, Any]], dict[str, dict[str, Any]]]:
    """The drafts read here (none when `drafted` is given), the drafts' answers by
    instrument, and the answers merged over them by instrument, when the assessment can be
    submitted (not completed, open) and every instrument's answers are whole and valid;
    else Conflict or InvalidInput."""
    if a.completed_at is not None:
        raise Conflict("This survey was already completed", {"state": "completed"})
    _check_open(ctx, a, finishing=True)
    loaded = [] if drafted is not None else list(drafts_of(ctx, a).values())
    if drafted is None:
        drafted = {d.instrument_code: d.answers for d in loaded}
    merged: dict[str, dict[str, Any]] = {}
    for instrument in a.instruments:
        values = {k: v["value"] for k, v in (drafted.get(instrument) or {}).items()}
        values.update(answers.get(instrument, {}))
        merged[instrument] = values
    unknown = set(answers) - set(a.instruments)
    if unknown:
        raise InvalidInput.field("answers", f"Not part of this assessment: {sorted(unknown)}")
    errors = {}
    for instrument, values in merged.items():
        found = response_errors(default_registry().get(instrument), values)
        if found:
            errors[instrument] = found
    if errors:
        raise InvalidInput("Some answers are missing or invalid", {"json": {"answers": errors}})
    return loaded, drafted, merged


def _new_version(ctx: ServiceContext, a: Assessment, instrument: str,
                 stamped: dict[str, Any], *, language: str, started_at: datetime,
                 submitted_at: datetime, replaces: Response | None, recorded_by: str,
                 reason: str | None = None, source: str | None = None) -> dict[str, Any]:
    """A scored response version's row (every column but `id`), not stored yet
    (`_store_versions` stores it). A plain row, not a `Response`: a submission stores five,
    and nothing reads them back as objects. Its answers were checked whole by the caller
    (`response_errors`), so scoring does not check them again."""
    version = replaces.instrument_version if replaces else None
    definition = default_registry().get(instrument, version)
    try:
        result = score(definition, {k: v["value"] for k, v in stamped.items()}, checked=True)
    except InvalidAnswersError as exc:
        raise InvalidInput("Invalid answers", {"json": {"answers": {instrument: exc.errors}}}
                           ) from exc
    return {
        "assessment_id": a.id, "participant_id": a.participant_id, "study_id": a.study_id,
        "site_id": a.site_id, "instrument_code": instrument,
        "instrument_version": definition.version, "language": language,
        "version": replaces.version + 1 if replaces else 1,
        "replaces_id": replaces.id if replaces else None, "is_current": True,
        "answers": stamped, "scores": result.as_dict(), "algorithm": result.algorithm,
        "algorithm_version": result.algorithm_version, "started_at": started_at,
        "submitted_at": submitted_at, "recorded_at": ctx.now(), "recorded_by": recorded_by,
        "change_reason": reason, "change_source": source, "audit_seq": UNSEALED,
    }


_RESPONSES = cast(Table, Response.__table__)


def _store_versions(ctx: ServiceContext, a: Assessment, versions: list[dict[str, Any]],
                    replaces: Response | None = None) -> None:
    """Insert new versions (`_new_version` rows; one statement for all, their ids set in the
    rows as `id`), then the rows that hang on their ids, one statement per table: their
    scores' `response_score` rows (a correction first deletes the superseded version's),
    their export texts (`response_export`) and one audit event each. Core statements, not
    the unit of work: this is most of a submission's CPU. Each version's `audit_seq` stays
    UNSEALED until the sealer chains its event. `replaces`: the version a single correction
    supersedes."""
    if replaces is not None:
        replaces.is_current = False
    written = [_written(version) for version in versions]
    ids = insert_rows_now(ctx.session, _RESPONSES, [
        version if texts is None else {**version, "answers": texts[0], "scores": texts[1]}
        for version, texts in zip(versions, written, strict=True)], returning_ids=True)
    for version, new_id in zip(versions, ids, strict=True):
        version["id"] = new_id
    store_current_scores(ctx.session, a.code, versions, superseded=replaces)
    store_export_texts(ctx.session, versions, replaces)
    action = "response.correct" if replaces else "response.submit"
    before = {"version": replaces.version, "answers": replaces.answers,
              "scores": replaces.scores["scores"]} if replaces else None
    record_rows(ctx, [event_row(
        ctx, action, "response", version["id"], before=before,
        after=_event_after(a, version, texts), reason=version["change_reason"],
        study_id=a.study_id, site_id=a.site_id)
        for version, texts in zip(versions, written, strict=True)])


def _written(version: dict[str, Any]) -> tuple[JSONWritten, JSONWritten, JSONWritten] | None:
    """A version's answers, scores and the scores' `scores` member as their columns write
    them, each written once (the version's event repeats the answers and the scores'
    member); None when JSON cannot write a float of them (the columns then write the
    values, as they always did)."""
    try:
        answers = json_written(version["answers"])
        member = json_written(version["scores"]["scores"])
    except ValueError:
        return None
    scores = version["scores"]
    return answers, json_object_written(
        {key: value for key, value in scores.items() if key != "scores"},
        {"scores": member}), member


def _event_after(a: Assessment, version: dict[str, Any],
                 texts: tuple[JSONWritten, JSONWritten, JSONWritten] | None) -> Any:
    """The `after` of a version's event: the assessment, instrument, version, answers and
    scores (their texts as the version's own when written)."""
    if texts is None:
        return {"assessment": a.code, "instrument": version["instrument_code"],
                "version": version["version"], "answers": version["answers"],
                "scores": version["scores"]["scores"]}
    return json_object_written(
        {"assessment": a.code, "instrument": version["instrument_code"],
         "version": version["version"]}, {"answers": texts[0], "scores": texts[2]})


def correct_answer(ctx: ServiceContext, current: Response, item_id: str, new_value: Any, *,
                   reason: str, source: str, approved_by: str) -> Response:
    """A new version of `current` with one answer changed; scores recomputed; old kept."""
    if not current.is_current:
        raise Conflict("Only the current version of a response can be changed")
    definition = default_registry().get(current.instrument_code, current.instrument_version)
    check_change(definition, current, item_id, new_value)
    stamped = dict(current.answers)
    if new_value is None:
        stamped.pop(item_id, None)
    else:
        stamped[item_id] = {"value": new_value, "answered_at": current.answers.get(
            item_id, {}).get("answered_at", current.submitted_at.isoformat()),
            "changed_at": ctx.now().isoformat()}
    row = _new_version(ctx, current.assessment, current.instrument_code, stamped,
                       language=current.language, started_at=current.started_at,
                       submitted_at=current.submitted_at, replaces=current,
                       recorded_by=approved_by, reason=reason, source=source)
    _store_versions(ctx, current.assessment, [row], replaces=current)
    response = Response(**row)
    attach_stored(ctx.session, [response])
    return response


def late_by(a: Assessment) -> timedelta | None:
    """How long after the window end the assessment was completed (None if on time)."""
    if a.completed_at is None or a.completed_at <= a.window_end:
        return None
    return a.completed_at - a.window_end
