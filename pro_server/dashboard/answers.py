"""A participant's answers as staff read them: every response version, newest first per
instrument, in the order they were asked, with item texts, value labels and scores.
Read-only: a change goes through a change request (pro_server.changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.changes.display import item_choices, item_text, value_label
from pro_server.instruments import InstrumentDefinition, default_registry
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment


def _scores(definition: InstrumentDefinition, scores: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {s.key: s.label["en"] for s in definition.scores}
    return [{"key": key, "label": labels.get(key, key), "value": s["value"],
             "reason": s["reason"]} for key, s in scores["scores"].items()]


def _answers(definition: InstrumentDefinition, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of the instrument in official order, answered or not."""
    return [{"item_id": item.id, "text": item_text(definition, item.id),
             "value": (answers.get(item.id) or {}).get("value"),
             "label": value_label(definition, item.id, (answers.get(item.id) or {}).get("value")),
             "changed_at": (answers.get(item.id) or {}).get("changed_at")}
            for item in definition.items]


def _asked_position(instrument_code: str, asked: list[str]) -> int:
    return asked.index(instrument_code) if instrument_code in asked else len(asked)


def response_versions(session: Session, participant: Participant) -> dict[str, Any]:
    """Surveys in schedule order; in each, the instruments in the order the participant was
    asked them (the assessment's own list), and each instrument's newest version first."""
    rows = sorted(session.execute(
        select(Response, Assessment.code, Assessment.sequence, Assessment.instruments)
        .join(Assessment, Assessment.id == Response.assessment_id)
        .where(Response.participant_id == participant.id)
        .order_by(Assessment.sequence, Response.instrument_code, Response.version.desc())
    ).all(), key=lambda row: (row.sequence, _asked_position(row[0].instrument_code,
                                                            list(row.instruments or []))))
    registry = default_registry()
    versions = []
    instruments: dict[str, Any] = {}
    for r, code, _sequence, _asked in rows:
        definition = registry.get(r.instrument_code, r.instrument_version)
        key = f"{definition.code}@{definition.version}"
        if key not in instruments:
            instruments[key] = {
                "code": definition.code, "version": definition.version,
                "title": definition.title["en"],
                "items": {i.id: item_choices(definition, i.id) for i in definition.items}}
        versions.append({
            "response_id": r.id, "assessment_code": code, "instrument": key,
            "instrument_code": r.instrument_code, "instrument_title": definition.title["en"],
            "version": r.version, "is_current": r.is_current, "replaces_id": r.replaces_id,
            "language": r.language, "submitted_at": r.submitted_at,
            "recorded_at": r.recorded_at, "recorded_by": r.recorded_by,
            "change_reason": r.change_reason, "change_source": r.change_source,
            "scores": _scores(definition, r.scores),
            "answers": _answers(definition, r.answers),
        })
    return {"participant_id": participant.id, "instruments": instruments, "responses": versions}
