"""Pain NRS (single_value) and IMACS patient global activity VAS scoring."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pro_server.instruments import score
from pro_server.instruments.scoring import ITEM_MISSING


@pytest.mark.parametrize("answer", [0, 1, 5, 10])
def test_pain_nrs_is_the_answer(pain_nrs, answer):
    result = score(pain_nrs, {"pain_nrs": answer})
    assert result.scores["pain_nrs"].value == Decimal(answer)
    assert result.as_dict()["scores"]["pain_nrs"]["value"] == answer
    assert (result.algorithm, result.algorithm_version) == ("nrs_single_item", "1.0.0")


@pytest.mark.parametrize("answers", [{}, {"pain_nrs": None}])
def test_pain_nrs_missing_is_absent_not_zero(pain_nrs, answers):
    pain = score(pain_nrs, answers).scores["pain_nrs"]
    assert (pain.value, pain.reason) == (None, ITEM_MISSING)


@pytest.mark.parametrize(
    ("millimetres", "centimetres"),
    [(0, "0.0"), (100, "10.0"), (47, "4.7"), (5, "0.5"), (50, "5.0")],
)
def test_vas_in_mm_and_cm(ptga, millimetres, centimetres):
    result = score(ptga, {"ptga_vas": millimetres})
    assert result.scores["ptga_mm"].value == millimetres
    # cm = mm / 10 exactly, e.g. 47 mm / 10 = 4.7 cm
    assert str(result.scores["ptga_cm"].value) == centimetres
    exported = result.as_dict()["scores"]
    assert exported["ptga_mm"]["value"] == millimetres
    assert isinstance(exported["ptga_mm"]["value"], int)
    assert exported["ptga_cm"]["value_text"] == centimetres


def test_vas_missing_is_absent_for_both_units(ptga):
    result = score(ptga, {})
    for key in ("ptga_mm", "ptga_cm"):
        assert result.scores[key].value is None
        assert result.scores[key].reason == ITEM_MISSING


def test_vas_anchors_are_the_imacs_ones(ptga):
    item = ptga.item("ptga_vas")
    assert (item.min, item.max, item.unit) == (0, 100, "mm")
    assert item.anchors["min"]["en"] == "Inactive disease"
    assert item.anchors["max"]["en"] == "Extremely severe disease activity"
