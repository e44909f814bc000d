"""Single-item score: the integer answer itself (e.g. a 0-10 pain NRS)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pro_server.instruments.scoring.result import ITEM_MISSING, Score

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition

ALGORITHM = "nrs_single_item"
ALGORITHM_VERSION = "1.0.0"


def score_keys(params: Mapping[str, Any]) -> list[str]:
    return [params["score_key"]]


def check_params(definition: InstrumentDefinition) -> list[str]:
    item = definition.items_by_id.get(definition.scoring.params["item"])
    if item is None or item.type != "nrs":
        return ["single_value: params.item must name an nrs item"]
    return []


def compute(definition: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Score]:
    params = definition.scoring.params
    item_id, key = params["item"], params["score_key"]
    value = answers.get(item_id)
    if value is None:
        return {key: Score.absent(key, ITEM_MISSING, item=item_id)}
    return {key: Score.of(key, Decimal(value), item=item_id)}
