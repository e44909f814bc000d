"""A version's export texts are built from its answers and scores as just made, without a
round trip through JSON: they are the texts built from the same version as stored (JSONText
sorts keys and writes what JSON cannot hold as text), for every instrument, partial answers,
a correction's previous version, and members in any order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from pro_server.instruments import default_registry, score
from pro_server.instruments.examples import example_answers
from pro_server.responses.export_text import export_texts

AT = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)


def _stored(value: Any) -> Any:
    """What the column reads back (JSONText's own encoding)."""
    return json.loads(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str))


def _reversed(value: Any) -> Any:
    """The same members, each object's in reverse key order."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in sorted(value, reverse=True)}
    return value


def _made(definition, rng: random.Random, keep: float) -> tuple[dict, dict]:
    values = {k: v for k, v in example_answers(definition, rng).items() if rng.random() < keep}
    stamped = {k: {"value": v, "answered_at": AT.isoformat()} for k, v in values.items()}
    return _reversed(stamped), _reversed(score(definition, values).as_dict())


@pytest.mark.parametrize("definition", default_registry().all(), ids=lambda d: d.code)
def test_texts_as_made_are_the_texts_as_stored(definition):
    rng = random.Random(definition.code)
    for keep in (1.0, 0.6, 0.0):
        answers, scores = _made(definition, rng, keep)
        before = _made(definition, rng, 1.0)
        assert export_texts(definition, answers, scores, before) == export_texts(
            definition, _stored(answers), _stored(scores), (_stored(before[0]),
                                                            _stored(before[1])))
