"""Answer validation: types, ranges, option codes, unknown ids, completeness."""

from __future__ import annotations

import pytest

from pro_server.instruments import InvalidAnswersError, score, validate_answers


def complete_haq() -> dict:
    answers: dict = {f: 0 for f in (
        "dress", "shampoo", "stand_up", "in_out_bed", "cut_meat", "lift_cup", "open_carton",
        "walk_outdoors", "climb_steps", "wash_body", "tub_bath", "toilet", "reach_object",
        "bend_down", "car_doors", "open_jars", "faucets", "errands", "in_out_car", "chores",
    )}  # fmt: skip
    return answers


def test_a_complete_valid_set_has_no_messages(haq):
    assert validate_answers(haq, complete_haq(), complete=True) == {}
    assert (
        validate_answers(haq, complete_haq() | {"aids_p1": [], "help_p2": []}, complete=True) == {}
    )


def test_partial_sets_are_valid_for_saving_but_not_for_submitting(haq):
    partial = {"dress": 1, "shampoo": None}
    assert validate_answers(haq, partial, complete=False) == {}
    errors = validate_answers(haq, partial, complete=True)
    assert "dress" not in errors
    assert errors["shampoo"] == ["required"]
    assert len(errors) == 19  # the 19 other ability items; aids/help items are optional


def test_unknown_item_ids_are_rejected(haq):
    errors = validate_answers(haq, {"dresss": 1, 7: 2}, complete=False)
    assert errors == {
        "dresss": ["unknown item id for haq_di 1.0"],
        "7": ["unknown item id for haq_di 1.0"],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (4, "4 is not an allowed option code (allowed: 0, 1, 2, 3)"),
        (-1, "-1 is not an allowed option code (allowed: 0, 1, 2, 3)"),
        ("1", "expected an integer, got str"),
        (1.0, "expected an integer, got float"),
        (True, "expected an integer, got bool"),
        ([1], "expected an integer, got list"),
    ],
)
def test_single_choice_values(haq, value, message):
    assert validate_answers(haq, {"dress": value}, complete=False) == {"dress": [message]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (101, "101 is outside 0-100 mm"),
        (-1, "-1 is outside 0-100 mm"),
        (50.5, "expected an integer, got float"),
        ("50", "expected an integer, got str"),
    ],
)
def test_vas_values_are_integer_millimetres(ptga, value, message):
    assert validate_answers(ptga, {"ptga_vas": value}, complete=False) == {"ptga_vas": [message]}


@pytest.mark.parametrize("value", [0, 100])
def test_vas_bounds_are_valid(ptga, value):
    assert validate_answers(ptga, {"ptga_vas": value}, complete=True) == {}


@pytest.mark.parametrize(("value", "valid"), [(0, True), (10, True), (11, False), (-1, False)])
def test_nrs_range(pain_nrs, value, valid):
    errors = validate_answers(pain_nrs, {"pain_nrs": value}, complete=False)
    assert (errors == {}) is valid
    if not valid:
        assert errors == {"pain_nrs": [f"{value} is outside 0-10"]}


@pytest.mark.parametrize(
    ("value", "messages"),
    [
        ("cane", ["expected a list of option codes, got str"]),
        (["cane", "rocket"], ["'rocket' is not an allowed option code"]),
        (["jar_opener"], ["'jar_opener' is not an allowed option code"]),  # a page-2 aid
        (["cane", "cane"], ["'cane' is listed twice"]),
        ([1], ["option codes are strings, got int"]),
        (("cane", "walker"), []),
    ],
)
def test_multi_choice_values(haq, value, messages):
    errors = validate_answers(haq, {"aids_p1": value}, complete=False)
    assert errors.get("aids_p1", []) == messages


def test_other_aid_category_applies_only_when_other_is_checked(haq):
    stray = complete_haq() | {"aids_p1": ["cane"], "aids_other_p1": ["walking"]}
    assert validate_answers(haq, stray, complete=False) == {}  # saving progress is lenient
    assert validate_answers(haq, stray, complete=True) == {
        "aids_other_p1": ["does not apply unless aids_p1 includes 'other'"]
    }
    named = complete_haq() | {"aids_p1": ["other"], "aids_other_p1": ["walking"]}
    assert validate_answers(haq, named, complete=True) == {}
    unnamed = complete_haq() | {"aids_p1": ["other"]}
    assert validate_answers(haq, unnamed, complete=True) == {}  # optional even when it applies


def test_answers_must_be_a_mapping(haq):
    assert validate_answers(haq, [("dress", 1)], complete=False) == {  # type: ignore[arg-type]
        "_answers": ["answers must be an object mapping item ids to values"]
    }


def test_several_messages_for_one_item_are_kept(haq):
    errors = validate_answers(haq, {"help_p1": ["x", "dressing", "dressing", 3]}, complete=False)
    assert errors == {
        "help_p1": [
            "'x' is not an allowed option code",
            "'dressing' is listed twice",
            "option codes are strings, got int",
        ]
    }


def test_scoring_refuses_invalid_answers(haq):
    with pytest.raises(InvalidAnswersError) as caught:
        score(haq, {"dress": 4, "nonsense": 1})
    assert set(caught.value.errors) == {"dress", "nonsense"}
