"""Plausible complete answer sets for an instrument: demo data, tests and benchmarks.

`severity` in [0, 1] leans answers from the best towards the worst end, so a demo's trend
charts move when severity changes over time.
"""

from __future__ import annotations

import random
from typing import Any

from pro_server.instruments.definitions import NUMERIC_TYPES, InstrumentDefinition


def example_answers(definition: InstrumentDefinition, rng: random.Random,
                    severity: float = 0.4) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in definition.items:
        if not item.required:
            continue
        values = list(item.possible_values)
        if not values:
            continue
        if item.type in NUMERIC_TYPES:
            worst_high = True  # NRS and VAS: higher is worse
        else:
            worst_high = item.options[0].code == min(values) and definition.code == "haq_di"
        position = min(max(rng.gauss(severity, 0.15), 0.0), 1.0)
        index = round(position * (len(values) - 1))
        ordered = sorted(values) if worst_high else sorted(values, reverse=True)
        answers[item.id] = ordered[index]
    return answers
