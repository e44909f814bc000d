"""HAQ-DI scoring, vectors worked out by hand from shared/reference/instruments.md s. 1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pro_server.instruments import score
from pro_server.instruments.scoring import ALL_ITEMS_BLANK, TOO_FEW_CATEGORIES

CATEGORY_ITEMS = {
    "dressing": ("dress", "shampoo"),
    "arising": ("stand_up", "in_out_bed"),
    "eating": ("cut_meat", "lift_cup", "open_carton"),
    "walking": ("walk_outdoors", "climb_steps"),
    "hygiene": ("wash_body", "tub_bath", "toilet"),
    "reach": ("reach_object", "bend_down"),
    "grip": ("car_doors", "open_jars", "faucets"),
    "activities": ("errands", "in_out_car", "chores"),
}


def answers(extra: dict[str, Any] | None = None, **categories: tuple[int | None, ...]) -> dict:
    """Ability answers given per category in item order (None = blank), plus aids/help items."""
    result: dict[str, Any] = {}
    for category, values in categories.items():
        result.update(zip(CATEGORY_ITEMS[category], values, strict=True))
    result.update(extra or {})
    return result


def values(result) -> dict[str, Decimal | None]:
    return {key: s.value for key, s in result.scores.items()}


def test_result_carries_instrument_and_algorithm_versions(haq):
    result = score(haq, {})
    assert (result.instrument_code, result.instrument_version) == ("haq_di", "1.0")
    assert (result.algorithm, result.algorithm_version) == ("haq_di_standard", "1.0.0")
    assert list(result.scores) == [
        "haq_di", "haq_di_without_aids", "dressing", "arising", "eating", "walking",
        "hygiene", "reach", "grip", "activities",
    ]  # fmt: skip


def test_aids_raise_0_and_1_to_2_but_never_change_a_3(haq):
    given = answers(
        {"aids_p1": ["dressing_devices", "cane", "special_utensils"], "aids_p2": ["jar_opener"]},
        dressing=(0, 1),  # max 1, dressing device -> raised to 2
        arising=(0, 0),  # max 0, no aid -> 0
        eating=(0, 0, 0),  # max 0, special utensils -> raised to 2
        walking=(3, 1),  # max 3, cane -> stays 3
        hygiene=(1, 0, 0),  # max 1, no aid -> 1
        reach=(0, 0),  # 0
        grip=(2, 0, 0),  # max 2, jar opener -> stays 2
        activities=(0, 1, 0),  # max 1
    )
    result = score(haq, given)
    got = values(result)
    assert [got[k] for k in CATEGORY_ITEMS] == [2, 0, 2, 3, 1, 0, 2, 1]
    # standard: (2 + 0 + 2 + 3 + 1 + 0 + 2 + 1) / 8 = 11 / 8 = 1.375
    assert got["haq_di"] == Decimal("1.375")
    assert result.scores["haq_di"].detail["numerator"] == 11
    assert result.scores["haq_di"].detail["denominator"] == 8
    # alternative, aids ignored: (1 + 0 + 0 + 3 + 1 + 0 + 2 + 1) / 8 = 8 / 8 = 1.000
    assert got["haq_di_without_aids"] == Decimal("1.000")
    assert result.scores["walking"].detail == {
        "without_aids": 3,
        "adjusted_by": ["aid:cane"],
        "items_answered": 2,
    }


def test_help_from_another_person_raises_the_category(haq):
    given = answers(
        {"help_p1": ["arising"], "help_p2": ["activities"]},
        **{category: (0,) * len(items) for category, items in CATEGORY_ITEMS.items()},
    )
    result = score(haq, given)
    assert result.scores["arising"].value == 2
    assert result.scores["arising"].detail["adjusted_by"] == ["help"]
    assert result.scores["activities"].value == 2
    assert result.scores["dressing"].value == 0
    # standard: (0 + 2 + 0 + 0 + 0 + 0 + 0 + 2) / 8 = 4 / 8 = 0.500
    assert result.scores["haq_di"].value == Decimal("0.500")
    # alternative: 0 / 8 = 0.000
    assert result.scores["haq_di_without_aids"].value == Decimal("0.000")


def test_a_blank_category_is_left_out_not_scored_zero(haq):
    given = answers(
        {"aids_p2": ["long_handled_reach"]},  # an aid for a blank category creates nothing
        dressing=(1, 0),  # 1
        arising=(2, None),  # 2, one item blank: scored from the answered item
        eating=(0, None, None),  # 0
        walking=(1, 1),  # 1
        hygiene=(3, 2, None),  # 3
        reach=(None, None),  # blank: not answered
        grip=(1, 0, 1),  # 1
        activities=(None, 2, 0),  # 2
    )
    result = score(haq, given)
    assert result.scores["reach"].value is None
    assert result.scores["reach"].reason == ALL_ITEMS_BLANK
    # (1 + 2 + 0 + 1 + 3 + 1 + 2) / 7 = 10 / 7 = 1.428571... -> 1.429
    assert result.scores["haq_di"].value == Decimal("1.429")
    assert result.scores["haq_di"].detail == {
        "numerator": 10,
        "denominator": 7,
        "categories_answered": 7,
        "min_categories": 6,
    }
    assert result.scores["haq_di_without_aids"].value == Decimal("1.429")


def test_six_categories_are_enough(haq):
    given = answers(
        dressing=(1, 1), arising=(1, 1), eating=(1, 1, 1), walking=(1, 1), hygiene=(1, 1, 1),
        reach=(2, 0),
    )  # fmt: skip
    result = score(haq, given)
    # (1 + 1 + 1 + 1 + 1 + 2) / 6 = 7 / 6 = 1.1666... -> 1.167
    assert result.scores["haq_di"].value == Decimal("1.167")
    assert result.scores["haq_di"].detail["denominator"] == 6


def test_too_few_categories_gives_no_index(haq):
    given = answers(
        {"help_p1": ["dressing"]},
        dressing=(3, 3), arising=(3, 3), eating=(3, 3, 3), walking=(3, 3), hygiene=(3, 3, 3),
    )  # fmt: skip
    result = score(haq, given)
    for key in ("haq_di", "haq_di_without_aids"):
        assert result.scores[key].value is None
        assert result.scores[key].reason == TOO_FEW_CATEGORIES
        assert result.scores[key].detail == {"categories_answered": 5, "min_categories": 6}
    # category scores are still reported
    assert result.scores["dressing"].value == 3


def test_other_aid_raises_only_the_category_the_participant_names(haq):
    all_one = {category: (1,) * len(items) for category, items in CATEGORY_ITEMS.items()}
    named = score(haq, answers({"aids_p2": ["other"], "aids_other_p2": ["grip"]}, **all_one))
    assert named.scores["grip"].value == 2
    assert named.scores["grip"].detail["adjusted_by"] == ["aid:other"]
    assert named.scores["reach"].value == 1
    # (1 + 1 + 1 + 1 + 1 + 1 + 2 + 1) / 8 = 9 / 8 = 1.125
    assert named.scores["haq_di"].value == Decimal("1.125")

    unnamed = score(haq, answers({"aids_p2": ["other"]}, **all_one))
    assert unnamed.scores["haq_di"].value == Decimal("1.000")  # 8 / 8

    # a category named although "other" is not checked raises nothing
    stray = score(haq, answers({"aids_p1": ["cane"], "aids_other_p1": ["eating"]}, **all_one))
    assert stray.scores["eating"].value == 1
    assert stray.scores["walking"].value == 2  # the cane does count
    assert stray.scores["haq_di"].value == Decimal("1.125")  # 9 / 8


# Reference s. 1.2 (Stanford/ARAMIS), typed in by hand: aid -> the one category it raises.
ARAMIS_AIDS = [
    ("aids_p1", "dressing_devices", "dressing"),
    ("aids_p1", "special_chair", "arising"),
    ("aids_p1", "special_utensils", "eating"),
    ("aids_p1", "cane", "walking"),
    ("aids_p1", "walker", "walking"),
    ("aids_p1", "crutches", "walking"),
    ("aids_p1", "wheelchair", "walking"),
    ("aids_p2", "raised_toilet_seat", "hygiene"),
    ("aids_p2", "bathtub_seat", "hygiene"),  # ARAMIS includes it (CLINHAQ and awell omit it)
    ("aids_p2", "bathtub_bar", "hygiene"),
    ("aids_p2", "long_handled_bathroom", "hygiene"),
    ("aids_p2", "long_handled_reach", "reach"),
    ("aids_p2", "jar_opener", "grip"),
]


@pytest.mark.parametrize(("item_id", "aid", "raised"), ARAMIS_AIDS)
def test_each_aid_raises_exactly_its_category(haq, item_id, aid, raised):
    all_one = {category: (1,) * len(items) for category, items in CATEGORY_ITEMS.items()}
    result = score(haq, answers({item_id: [aid]}, **all_one))
    got = values(result)
    assert {k for k in CATEGORY_ITEMS if got[k] == 2} == {raised}
    assert result.scores[raised].detail["adjusted_by"] == [f"aid:{aid}"]
    # seven categories at 1 and the raised one at 2: 9 / 8 = 1.125; without aids 8 / 8 = 1.000
    assert got["haq_di"] == Decimal("1.125")
    assert got["haq_di_without_aids"] == Decimal("1.000")


def test_aids_never_move_the_index_above_3(haq):
    every_aid = {
        "aids_p1": [o.code for o in haq.item("aids_p1").options],
        "aids_p2": [o.code for o in haq.item("aids_p2").options],
        "help_p1": ["dressing", "arising", "eating", "walking"],
        "help_p2": ["hygiene", "reach", "grip", "activities"],
    }
    all_three = {category: (3,) * len(items) for category, items in CATEGORY_ITEMS.items()}
    result = score(haq, answers(every_aid, **all_three))
    assert result.scores["haq_di"].value == Decimal("3.000")  # 24 / 8
    all_zero = {category: (0,) * len(items) for category, items in CATEGORY_ITEMS.items()}
    raised = score(haq, answers(every_aid, **all_zero))
    # every category raised from 0 to 2: 16 / 8 = 2.000; without aids 0 / 8
    assert raised.scores["haq_di"].value == Decimal("2.000")
    assert raised.scores["haq_di_without_aids"].value == Decimal("0.000")


def test_empty_answer_set_scores_nothing(haq):
    result = score(haq, {})
    assert all(s.value is None for s in result.scores.values())
    assert result.scores["haq_di"].detail["categories_answered"] == 0


def test_aid_mapping_follows_aramis(haq):
    """Reference section 1.2, including the bathtub seat under hygiene."""
    mapping = {c["key"]: set(c["aids"]) for c in haq.scoring.params["categories"]}
    assert mapping == {
        "dressing": {"dressing_devices"},
        "arising": {"special_chair"},
        "eating": {"special_utensils"},
        "walking": {"cane", "walker", "crutches", "wheelchair"},
        "hygiene": {"raised_toilet_seat", "bathtub_seat", "bathtub_bar", "long_handled_bathroom"},
        "reach": {"long_handled_reach"},
        "grip": {"jar_opener"},
        "activities": set(),
    }
    assert {c["key"]: tuple(c["items"]) for c in haq.scoring.params["categories"]} == (
        CATEGORY_ITEMS
    )


def test_item_layout_is_the_agreed_one(haq):
    ids = [item.id for item in haq.items]
    assert ids[:20] == [i for items in CATEGORY_ITEMS.values() for i in items]
    assert ids[20:24] == ["aids_p1", "help_p1", "aids_p2", "help_p2"]
    aid_codes = set(haq.item("aids_p1").option_codes) | set(haq.item("aids_p2").option_codes)
    assert aid_codes == {
        "cane", "walker", "crutches", "wheelchair", "dressing_devices", "special_utensils",
        "special_chair", "raised_toilet_seat", "bathtub_seat", "bathtub_bar",
        "long_handled_reach", "long_handled_bathroom", "jar_opener", "other",
    }  # fmt: skip
    help_codes = set(haq.item("help_p1").option_codes) | set(haq.item("help_p2").option_codes)
    assert help_codes == set(CATEGORY_ITEMS)
    assert haq.scoring.params["min_categories_answered"] == 6


@pytest.mark.parametrize("item_id", [i for items in CATEGORY_ITEMS.values() for i in items])
def test_ability_items_are_coded_0_to_3(haq, item_id):
    assert haq.item(item_id).option_codes == (0, 1, 2, 3)
