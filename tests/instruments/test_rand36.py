"""RAND-36 scoring, vectors worked out by hand from shared/reference/instruments.md s. 2."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pro_server.instruments import score
from pro_server.instruments.scoring import ALL_ITEMS_BLANK

SCALES = {
    "physical_functioning": list(range(3, 13)),
    "role_physical": [13, 14, 15, 16],
    "role_emotional": [17, 18, 19],
    "energy_fatigue": [23, 27, 29, 31],
    "emotional_wellbeing": [24, 25, 26, 28, 30],
    "social_functioning": [20, 32],
    "pain": [21, 22],
    "general_health": [1, 33, 34, 35, 36],
}
# RAND Table 1, copied by hand from the reference: item numbers -> {pre-coded answer: value}
TABLE_1 = [
    ((1, 2, 20, 22, 34, 36), {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}),
    (range(3, 13), {1: 0, 2: 50, 3: 100}),
    (range(13, 20), {1: 0, 2: 100}),
    ((21, 23, 26, 27, 30), {1: 100, 2: 80, 3: 60, 4: 40, 5: 20, 6: 0}),
    ((24, 25, 28, 29, 31), {1: 0, 2: 20, 3: 40, 4: 60, 5: 80, 6: 100}),
    ((32, 33, 35), {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}),
]
RECODE = {number: table for numbers, table in TABLE_1 for number in numbers}


def items(**by_number: int | None) -> dict[str, int | None]:
    return {f"rand{int(key[1:]):02d}": value for key, value in by_number.items()}


def test_definition_matches_the_reference_tables(rand36):
    params = rand36.scoring.params
    for number, table in RECODE.items():
        item_id = f"rand{number:02d}"
        recode = params["recode_tables"][params["item_recode"][item_id]]
        assert {int(k): v for k, v in recode.items()} == table, item_id
    assert {k: list(v) for k, v in params["scales"].items()} == {
        scale: [f"rand{n:02d}" for n in numbers] for scale, numbers in SCALES.items()
    }
    assert [item.id for item in rand36.items] == [f"rand{n:02d}" for n in range(1, 37)]


def test_best_possible_answers_give_100_everywhere_including_reversed_items(rand36):
    best = items(
        q1=1, q2=1,  # Excellent (1 -> 100)
        **{f"q{n}": 3 for n in range(3, 13)},  # No, not limited at all (3 -> 100)
        **{f"q{n}": 2 for n in range(13, 20)},  # No (2 -> 100)
        q20=1, q21=1, q22=1,  # Not at all / None / Not at all (1 -> 100)
        q23=1, q26=1, q27=1, q30=1,  # pep, calm, energy, happy: all of the time (1 -> 100)
        q24=6, q25=6, q28=6, q29=6, q31=6,  # nervous, down, blue, worn out, tired: none (6 -> 100)
        q32=5,  # none of the time (5 -> 100)
        q33=5, q35=5,  # definitely false (5 -> 100)
        q34=1, q36=1,  # definitely true (1 -> 100)
    )  # fmt: skip
    result = score(rand36, best)
    assert {k: s.value for k, s in result.scores.items()} == dict.fromkeys(SCALES, Decimal("100"))


def test_mixed_answers(rand36):
    given = items(
        q3=1, q4=2, q5=3, q6=3, q7=3, q8=2, q9=1, q10=2, q11=3, q12=3,
        q13=1, q14=2, q15=2, q16=1,
        q17=1, q18=1, q19=2,
        q23=2, q27=3, q29=4, q31=5,
        q24=5, q25=6, q26=2, q28=4, q30=3,
        q20=2, q32=4,
        q21=3, q22=2,
        q1=3, q33=4, q34=2, q35=3, q36=2,
    )  # fmt: skip
    got = {k: s.value for k, s in score(rand36, given).scores.items()}
    # PF: 0 + 50 + 100 + 100 + 100 + 50 + 0 + 50 + 100 + 100 = 650; 650 / 10 = 65.00
    assert got["physical_functioning"] == Decimal("65.00")
    # RP: 0 + 100 + 100 + 0 = 200; 200 / 4 = 50.00
    assert got["role_physical"] == Decimal("50.00")
    # RE: 0 + 0 + 100 = 100; 100 / 3 = 33.333... -> 33.33
    assert got["role_emotional"] == Decimal("33.33")
    # EF: pep 2 -> 80, energy 3 -> 60, worn out 4 -> 60 (reversed), tired 5 -> 80 (reversed)
    #     280 / 4 = 70.00
    assert got["energy_fatigue"] == Decimal("70.00")
    # EWB: nervous 5 -> 80, down 6 -> 100, calm 2 -> 80, blue 4 -> 60, happy 3 -> 60
    #      380 / 5 = 76.00
    assert got["emotional_wellbeing"] == Decimal("76.00")
    # SF: q20 2 -> 75, q32 4 -> 75; 150 / 2 = 75.00
    assert got["social_functioning"] == Decimal("75.00")
    # Pain: q21 3 -> 60, q22 2 -> 75; 135 / 2 = 67.50
    assert got["pain"] == Decimal("67.50")
    # GH: q1 3 -> 50, q33 4 -> 75, q34 2 -> 75, q35 3 -> 50, q36 2 -> 75; 325 / 5 = 65.00
    assert got["general_health"] == Decimal("65.00")


def test_a_blank_item_is_left_out_of_the_mean(rand36):
    result = score(rand36, items(q23=2, q27=3, q29=None, q31=5))
    energy = result.scores["energy_fatigue"]
    # 80 + 60 + 80 = 220 over 3 answered items = 73.333... -> 73.33 (not 220 / 4 = 55)
    assert energy.value == Decimal("73.33")
    assert (energy.detail["numerator"], energy.detail["denominator"]) == (220, 3)
    assert energy.detail["items_blank"] == ["rand29"]
    assert energy.detail["recoded"] == {"rand23": 80, "rand27": 60, "rand31": 80}


def test_rounding_is_half_up(rand36):
    # GH with q1 4 -> 25, q33 2 -> 25, q34 5 -> 0: 50 / 3 = 16.666... -> 16.67
    result = score(rand36, items(q1=4, q33=2, q34=5))
    assert result.scores["general_health"].value == Decimal("16.67")


def test_a_scale_with_every_item_blank_is_absent_never_zero(rand36):
    result = score(rand36, items(q17=None, q18=None, q19=None, q13=1))
    emotional = result.scores["role_emotional"]
    assert emotional.value is None
    assert emotional.reason == ALL_ITEMS_BLANK
    assert emotional.detail == {"items": ["rand17", "rand18", "rand19"]}
    assert result.scores["role_physical"].value == Decimal("0.00")  # 0 / 1: a real zero


def test_health_change_item_belongs_to_no_scale(rand36):
    assert score(rand36, items(q2=1)).scores == score(rand36, items(q2=5)).scores


@pytest.mark.parametrize(("answer", "expected"), [(1, "0.00"), (2, "50.00"), (3, "100.00")])
def test_physical_functioning_single_item(rand36, answer, expected):
    result = score(rand36, items(q3=answer))
    assert result.scores["physical_functioning"].value == Decimal(expected)


def test_result_names_the_rand_algorithm(rand36):
    result = score(rand36, {})
    assert (result.algorithm, result.algorithm_version) == ("rand36_v1_scales", "1.0.0")
    assert rand36.title["en"] == "RAND 36-Item Health Survey 1.0"
