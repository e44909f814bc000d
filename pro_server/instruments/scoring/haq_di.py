"""HAQ Disability Index, standard (with aids/devices and help) and alternative (without) scoring.

Rules (Stanford/ARAMIS, shared/reference/instruments.md section 1):

1. Category score = highest answered item score in the category (0-3). A category with no item
   answered is not scored and does not count as answered.
2. Standard index only: if an aid/device mapped to the category, an "other" aid named for the
   category, or help from another person for the category is checked, a category score below
   ``raise_to`` (2) is raised to it; 2 and 3 are unchanged.
3. Index = sum of category scores / number of categories answered. Below
   ``min_categories_answered`` (6, the widely used convention, unconfirmed in the primary text) the
   index is absent with reason ``too_few_categories``.

Each index carries its exact numerator and denominator in ``detail``; ``value`` is that ratio
rounded half up to ``decimals`` places.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pro_server.instruments.scoring.common import rounded_ratio
from pro_server.instruments.scoring.result import ALL_ITEMS_BLANK, TOO_FEW_CATEGORIES, Score

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition

ALGORITHM = "haq_di_standard"
ALGORITHM_VERSION = "1.0.0"
ITEM_CODES = (0, 1, 2, 3)


def score_keys(params: Mapping[str, Any]) -> list[str]:
    categories = [category["key"] for category in params["categories"]]
    return [params["index_key"], params["alternative_index_key"], *categories]


def check_params(definition: InstrumentDefinition) -> list[str]:
    params = definition.scoring.params
    items = definition.items_by_id
    errors: list[str] = []

    def multi_choice_codes(item_id: str) -> set[str]:
        item = items.get(item_id)
        if item is None or item.type != "multi_choice":
            errors.append(f"haq_di: {item_id!r} must be a multi_choice item")
            return set()
        return {str(code) for code in item.option_codes}

    aid_codes = set().union(*(multi_choice_codes(i) for i in params["aid_items"]))
    help_codes = set().union(*(multi_choice_codes(i) for i in params["help_items"]))
    category_keys = [category["key"] for category in params["categories"]]
    for category in params["categories"]:
        for item_id in category["items"]:
            item = items.get(item_id)
            if item is None or item.type != "single_choice" or item.option_codes != ITEM_CODES:
                errors.append(f"haq_di: {item_id!r} must be a single_choice item coded 0-3")
        errors += [
            f"haq_di: aid {aid!r} is not an option of any aid item"
            for aid in category["aids"]
            if aid not in aid_codes
        ]
        if category["help_code"] not in help_codes:
            errors.append(f"haq_di: help code {category['help_code']!r} is not a help option")
    other = params["other_aid"]
    for aid_item, category_item in other["category_items"].items():
        if other["code"] not in multi_choice_codes(aid_item):
            errors.append(f"haq_di: {aid_item!r} has no {other['code']!r} option")
        unknown = multi_choice_codes(category_item) - set(category_keys)
        if unknown:
            errors.append(f"haq_di: {category_item!r} options {sorted(unknown)} are not categories")
    if params["min_categories_answered"] > len(category_keys):
        errors.append("haq_di: min_categories_answered exceeds the number of categories")
    return errors


def _checked(answers: Mapping[str, Any], item_ids: Any) -> set[str]:
    return {code for item_id in item_ids for code in answers.get(item_id) or ()}


def _index(key: str, category_scores: list[int], params: Mapping[str, Any]) -> Score:
    answered = len(category_scores)
    minimum = params["min_categories_answered"]
    if answered < minimum:
        return Score.absent(
            key, TOO_FEW_CATEGORIES, categories_answered=answered, min_categories=minimum
        )
    numerator = sum(category_scores)
    return Score.of(
        key,
        rounded_ratio(numerator, answered, params["decimals"]),
        numerator=numerator,
        denominator=answered,
        categories_answered=answered,
        min_categories=minimum,
    )


def compute(definition: InstrumentDefinition, answers: Mapping[str, Any]) -> dict[str, Score]:
    params = definition.scoring.params
    aids = _checked(answers, params["aid_items"])
    helped = _checked(answers, params["help_items"])
    other = params["other_aid"]
    other_categories = {
        category
        for aid_item, category_item in other["category_items"].items()
        if other["code"] in (answers.get(aid_item) or ())
        for category in answers.get(category_item) or ()
    }
    scores: dict[str, Score] = {}
    standard: list[int] = []
    alternative: list[int] = []
    for category in params["categories"]:
        key = category["key"]
        values = [answers[i] for i in category["items"] if answers.get(i) is not None]
        if not values:
            scores[key] = Score.absent(key, ALL_ITEMS_BLANK, items=list(category["items"]))
            continue
        highest = max(values)
        adjusters = [f"aid:{aid}" for aid in category["aids"] if aid in aids]
        if key in other_categories:
            adjusters.append("aid:other")
        if category["help_code"] in helped:
            adjusters.append("help")
        adjusted = max(highest, params["raise_to"]) if adjusters else highest
        scores[key] = Score.of(
            key,
            Decimal(adjusted),
            without_aids=highest,
            adjusted_by=adjusters,
            items_answered=len(values),
        )
        standard.append(adjusted)
        alternative.append(highest)
    scores[params["index_key"]] = _index(params["index_key"], standard, params)
    scores[params["alternative_index_key"]] = _index(
        params["alternative_index_key"], alternative, params
    )
    return scores
