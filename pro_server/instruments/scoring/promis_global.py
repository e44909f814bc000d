"""PROMIS Global Health summary scores (GPH, GMH) from the published raw-to-T tables.

Raw score = sum of the summary's four item values, after any recode (Global07 pain 0-10 -> 1-5).
All items of a summary are required: with any missing, raw, T and SE are absent with reason
``item_missing`` (the raw-sum tables assume complete responses; no pro-rating, no clamping).
T and SE are read from the table, never interpolated; at load time the table must cover exactly
every raw score the items can produce.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pro_server.instruments.scoring.result import ITEM_MISSING, Score

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition

ALGORITHM = "promis_gh_v1_2_summed"
ALGORITHM_VERSION = "1.0.0"


def score_keys(params: Mapping[str, Any]) -> list[str]:
    return [
        key
        for summary in params["summaries"]
        for key in (summary["raw_key"], summary["t_key"], summary["se_key"])
    ]


def check_params(definition: InstrumentDefinition) -> list[str]:
    errors: list[str] = []
    for summary in definition.scoring.params["summaries"]:
        low = high = 0
        for item_id in summary["items"]:
            item = definition.items_by_id.get(item_id)
            if item is None or item.type not in ("single_choice", "nrs"):
                errors.append(f"promis_global: {item_id!r} must be a single_choice or nrs item")
                continue
            recode = summary["recode"].get(item_id)
            answers = {str(value) for value in item.possible_values}
            if recode is not None and set(recode) != answers:
                errors.append(f"promis_global: recode of {item_id} must cover exactly its answers")
                continue
            values = [int(v) for v in answers] if recode is None else list(recode.values())
            low, high = low + min(values), high + max(values)
        expected = {str(raw) for raw in range(low, high + 1)}
        if not errors and set(summary["table"]) != expected:
            errors.append(
                f"promis_global: {summary['raw_key']} table must cover exactly raw {low}-{high}"
            )
    return errors


def compute(definition: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for summary in definition.scoring.params["summaries"]:
        keys = (summary["raw_key"], summary["t_key"], summary["se_key"])
        missing = [i for i in summary["items"] if answers.get(i) is None]
        if missing:
            for key in keys:
                scores[key] = Score.absent(key, ITEM_MISSING, missing_items=missing)
            continue
        values = {
            item_id: summary["recode"][item_id][str(answers[item_id])]
            if item_id in summary["recode"]
            else answers[item_id]
            for item_id in summary["items"]
        }
        raw = sum(values.values())
        t_score, standard_error = summary["table"][str(raw)]
        scores[keys[0]] = Score.of(keys[0], Decimal(raw), item_values=values)
        scores[keys[1]] = Score.of(keys[1], Decimal(t_score), raw=raw)
        scores[keys[2]] = Score.of(keys[2], Decimal(standard_error), raw=raw)
    return scores
