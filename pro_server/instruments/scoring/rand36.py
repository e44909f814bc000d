"""RAND 36-Item Health Survey 1.0 scale scores (RAND's two-step procedure).

1. Recode each answered item to 0-100 with its table (higher = better health).
2. Scale score = mean of the recoded values of the scale's answered items. Blank items are ignored
   (RAND sets no minimum); a scale with every item blank is absent (``all_items_blank``), never 0.

``detail`` keeps the exact sum and item count; ``value`` is their ratio rounded half up to
``decimals`` places.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pro_server.instruments.scoring.common import rounded_ratio
from pro_server.instruments.scoring.result import ALL_ITEMS_BLANK, Score

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition

ALGORITHM = "rand36_v1_scales"
ALGORITHM_VERSION = "1.0.0"


def score_keys(params: Mapping[str, Any]) -> list[str]:
    return list(params["scales"])


def check_params(definition: InstrumentDefinition) -> list[str]:
    params = definition.scoring.params
    tables = params["recode_tables"]
    errors: list[str] = []
    for item_id, table_name in params["item_recode"].items():
        item = definition.items_by_id.get(item_id)
        table = tables.get(table_name)
        if item is None or item.type != "single_choice":
            errors.append(f"rand36: {item_id!r} must be a single_choice item")
        elif table is None:
            errors.append(f"rand36: {item_id!r} uses unknown recode table {table_name!r}")
        elif set(table) != {str(code) for code in item.option_codes}:
            errors.append(f"rand36: table {table_name!r} does not cover exactly {item_id}'s codes")
    for name, table in tables.items():
        if not all(0 <= value <= 100 for value in table.values()):
            errors.append(f"rand36: table {name!r} has values outside 0-100")
    for scale, item_ids in params["scales"].items():
        errors += [
            f"rand36: scale {scale} item {item_id!r} has no recode table"
            for item_id in item_ids
            if item_id not in params["item_recode"]
        ]
    return errors


def recoded(params: Mapping[str, Any], item_id: str, answer: int) -> int:
    """The 0-100 value of one answer (RAND Table 1)."""
    return params["recode_tables"][params["item_recode"][item_id]][str(answer)]


def compute(definition: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Score]:
    params = definition.scoring.params
    scores: dict[str, Score] = {}
    for scale, item_ids in params["scales"].items():
        answered = [i for i in item_ids if answers.get(i) is not None]
        if not answered:
            scores[scale] = Score.absent(scale, ALL_ITEMS_BLANK, items=list(item_ids))
            continue
        values = {i: recoded(params, i, answers[i]) for i in answered}
        total = sum(values.values())
        scores[scale] = Score.of(
            scale,
            rounded_ratio(total, len(values), params["decimals"]),
            numerator=total,
            denominator=len(values),
            recoded=values,
            items_blank=[i for i in item_ids if i not in values],
        )
    return scores
