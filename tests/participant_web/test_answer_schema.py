"""The answers' field (ItemAnswers) loads and refuses exactly as marshmallow's own Dict of
the same key and value fields: its shortcut only takes what those fields take as it is."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from pro_server.participant_web.schemas import DraftSchema, SubmissionSchema


def _answers() -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)),
                       values=fields.Raw(allow_none=True))


class _Plain(Schema):
    answers = _answers()


class _Plains(Schema):
    answers = fields.Dict(keys=fields.String(), values=_answers())


CASES: list[Any] = [
    {}, {"q1": 1, "q2": None, "q3": "text", "q4": [1, 2], "q5": {"a": 1}, "q6": 2.5},
    {"x" * 60: True}, {"x" * 61: 1}, {"": 1}, {"ok": 1, "": 2, "y" * 70: 3},
    [], "q1", 3, None,
]


def _outcome(schema: Schema, answers: Any) -> tuple[str, Any]:
    try:
        return "loaded", schema.load({"answers": answers}, partial=True)
    except ValidationError as exc:
        return "refused", (exc.messages, exc.valid_data)


@pytest.mark.parametrize("answers", CASES)
def test_a_draft_s_answers_load_as_marshmallow_s_dict(answers):
    assert _outcome(DraftSchema(), answers) == _outcome(_Plain(), answers)


@pytest.mark.parametrize("answers", CASES)
def test_a_submission_s_answers_load_as_marshmallow_s_dict(answers):
    nested = {"PHQ9": answers, "GAD7": {"q1": 0}}
    plain = _outcome(_Plains(), nested)
    ours = _outcome(SubmissionSchema(), nested)
    assert ours == plain
