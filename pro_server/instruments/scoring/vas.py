"""Visual analogue scale stored as integer millimetres (0-100), also given in centimetres.

Keeping millimetres as integers means nothing downstream (e.g. TIS percentage bins) depends on a
floating-point value landing on the right side of a bin edge; cm = mm / 10 is an exact Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pro_server.instruments.scoring.result import ITEM_MISSING, Score

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition

ALGORITHM = "vas_integer_mm"
ALGORITHM_VERSION = "1.0.0"


def score_keys(params: Mapping[str, Any]) -> list[str]:
    return [params["mm_key"], params["cm_key"]]


def check_params(definition: InstrumentDefinition) -> list[str]:
    item = definition.items_by_id.get(definition.scoring.params["item"])
    if item is None or item.type != "vas":
        return ["vas: params.item must name a vas item"]
    return []


def compute(definition: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Score]:
    params = definition.scoring.params
    item_id, mm_key, cm_key = params["item"], params["mm_key"], params["cm_key"]
    millimetres = answers.get(item_id)
    if millimetres is None:
        return {
            mm_key: Score.absent(mm_key, ITEM_MISSING, item=item_id),
            cm_key: Score.absent(cm_key, ITEM_MISSING, item=item_id),
        }
    mm = Decimal(millimetres)
    return {
        mm_key: Score.of(mm_key, mm, item=item_id),
        cm_key: Score.of(cm_key, mm.scaleb(-1), item=item_id),
    }
