"""Score/ScoreResult invariants, JSON output and exact rounding."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pro_server.instruments import score
from pro_server.instruments.scoring import Score, ScoreResult
from pro_server.instruments.scoring.common import rounded_ratio
from pro_server.instruments.scoring.result import json_number


@pytest.mark.parametrize(("value", "reason"), [(None, None), (Decimal(1), "item_missing")])
def test_a_score_has_exactly_one_of_value_and_reason(value, reason):
    with pytest.raises(ValueError, match="exactly one"):
        Score("x", value, reason)


@pytest.mark.parametrize(
    ("numerator", "denominator", "decimals", "expected"),
    [
        (25, 8, 2, "3.13"),  # 3.125: a tie rounds half up (not to even)
        (1, 8, 2, "0.13"),  # 0.125
        (2, 3, 3, "0.667"),
        (1, 3, 3, "0.333"),
        (9, 8, 3, "1.125"),  # exact
        (0, 7, 3, "0.000"),
        (24, 8, 0, "3"),
    ],
)
def test_rounded_ratio(numerator, denominator, decimals, expected):
    assert str(rounded_ratio(numerator, denominator, decimals)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (Decimal("47"), 47), (Decimal("4.7"), 4.7), (Decimal("2.000"), 2.0)],
)
def test_json_number(value, expected):
    got = json_number(value)
    assert got == expected
    assert type(got) is type(expected)


def test_as_dict_is_json_ready(haq):
    result = score(haq, {"dress": 2, "aids_p1": ["cane"]})
    exported = json.loads(json.dumps(result.as_dict()))
    assert exported["instrument"] == "haq_di"
    assert exported["instrument_version"] == "1.0"
    assert exported["algorithm"] == "haq_di_standard"
    assert exported["algorithm_version"] == "1.0.0"
    assert exported["scores"]["dressing"] == {
        "value": 2,
        "value_text": "2",
        "reason": None,
        "detail": {"without_aids": 2, "adjusted_by": [], "items_answered": 1},
    }
    assert exported["scores"]["haq_di"] == {
        "value": None,
        "value_text": None,
        "reason": "too_few_categories",
        "detail": {"categories_answered": 1, "min_categories": 6},
    }


def test_score_result_is_a_plain_value():
    result = ScoreResult("x", "1.0", "alg", "1.0.0", {"k": Score.of("k", Decimal(1))})
    assert result.as_dict()["scores"]["k"]["value"] == 1
