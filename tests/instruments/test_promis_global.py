"""PROMIS Global Health v1.2 scoring, vectors worked out by hand from the reference (section 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pro_server.instruments import score
from pro_server.instruments.scoring import ITEM_MISSING

# Published v1.2 tables, copied by hand from shared/reference/instruments.md section 4.
GPH_T = [16.2, 19.9, 23.5, 26.7, 29.6, 32.4, 34.9, 37.4, 39.8, 42.3, 44.9, 47.7, 50.8, 54.1,
         57.7, 61.9, 67.7]  # fmt: skip
GPH_SE = [4.8, 4.7, 4.5, 4.3, 4.2, 4.2, 4.1, 4.1, 4.1, 4.2, 4.3, 4.4, 4.6, 4.7, 4.9, 5.2, 5.9]
GMH_T = [21.2, 25.1, 28.4, 31.3, 33.8, 36.3, 38.8, 41.1, 43.5, 45.8, 48.3, 50.8, 53.3, 56.0,
         59.0, 62.5, 67.6]  # fmt: skip
GMH_SE = [4.6, 4.1, 3.9, 3.7, 3.7, 3.7, 3.6, 3.6, 3.6, 3.6, 3.7, 3.7, 3.7, 3.8, 3.9, 4.2, 5.3]


def test_tables_in_the_definition_match_the_reference(promis):
    gph, gmh = promis.scoring.params["summaries"]
    for summary, t_column, se_column in ((gph, GPH_T, GPH_SE), (gmh, GMH_T, GMH_SE)):
        expected = {
            str(raw): (f"{t:.1f}", f"{se:.1f}")
            for raw, t, se in zip(range(4, 21), t_column, se_column, strict=True)
        }
        assert {raw: tuple(row) for raw, row in summary["table"].items()} == expected
    assert list(gph["items"]) == ["global03", "global06", "global07", "global08r"]
    assert list(gmh["items"]) == ["global02", "global04", "global05", "global10r"]


def test_items_are_in_v1_2_form_order(promis):
    assert [item.id for item in promis.items] == [
        "global01", "global02", "global03", "global04", "global05", "global09r", "global06",
        "global10r", "global08r", "global07",
    ]  # fmt: skip


def test_full_response(promis):
    given = {
        "global01": 4, "global02": 4, "global03": 3, "global04": 5, "global05": 2,
        "global09r": 3, "global06": 4, "global10r": 2, "global08r": 4, "global07": 6,
    }  # fmt: skip
    got = {k: s.value for k, s in score(promis, given).scores.items()}
    # GPH = Global03 3 + Global06 4 + Global07rc (6 -> 3) 3 + Global08r 4 = 14 -> T 44.9, SE 4.3
    assert (got["gph_raw"], got["gph_t"], got["gph_se"]) == (14, Decimal("44.9"), Decimal("4.3"))
    # GMH = Global02 4 + Global04 5 + Global05 2 + Global10r 2 = 13 -> T 45.8, SE 3.6
    assert (got["gmh_raw"], got["gmh_t"], got["gmh_se"]) == (13, Decimal("45.8"), Decimal("3.6"))


# Global03 = Global06 = Global08r = 3 contribute 9; raw = 9 + Global07rc.
@pytest.mark.parametrize(
    ("pain", "recoded", "t_score"),
    [
        (0, 5, "44.9"),  # 9 + 5 = 14
        (1, 4, "42.3"),  # 9 + 4 = 13
        (3, 4, "42.3"),  # 9 + 4 = 13
        (4, 3, "39.8"),  # 9 + 3 = 12
        (6, 3, "39.8"),  # 9 + 3 = 12
        (7, 2, "37.4"),  # 9 + 2 = 11
        (9, 2, "37.4"),  # 9 + 2 = 11
        (10, 1, "34.9"),  # 9 + 1 = 10
    ],
)
def test_global07_pain_is_recoded_before_summing(promis, pain, recoded, t_score):
    given = {"global03": 3, "global06": 3, "global08r": 3, "global07": pain}
    result = score(promis, given)
    assert result.scores["gph_raw"].value == 9 + recoded
    assert result.scores["gph_raw"].detail["item_values"]["global07"] == recoded
    assert result.scores["gph_t"].value == Decimal(t_score)


def test_extremes_of_the_tables(promis):
    worst = {
        "global02": 1, "global03": 1, "global04": 1, "global05": 1, "global06": 1,
        "global07": 10, "global08r": 1, "global10r": 1,
    }  # fmt: skip
    got = {k: s.value for k, s in score(promis, worst).scores.items()}
    # GPH 1 + 1 + (10 -> 1) + 1 = 4; GMH 1 + 1 + 1 + 1 = 4
    assert (got["gph_t"], got["gph_se"]) == (Decimal("16.2"), Decimal("4.8"))
    assert (got["gmh_t"], got["gmh_se"]) == (Decimal("21.2"), Decimal("4.6"))
    best = {key: 5 for key in worst} | {"global07": 0}
    got = {k: s.value for k, s in score(promis, best).scores.items()}
    # GPH 5 + 5 + (0 -> 5) + 5 = 20; GMH 5 + 5 + 5 + 5 = 20
    assert (got["gph_t"], got["gph_se"]) == (Decimal("67.7"), Decimal("5.9"))
    assert (got["gmh_t"], got["gmh_se"]) == (Decimal("67.6"), Decimal("5.3"))


def test_a_missing_item_makes_its_summary_absent(promis):
    given = {
        "global02": 4, "global04": 5, "global05": 2,  # global10r missing
        "global03": 3, "global06": 4, "global07": 6, "global08r": 4,
    }  # fmt: skip
    result = score(promis, given)
    for key in ("gmh_raw", "gmh_t", "gmh_se"):
        assert result.scores[key].value is None
        assert result.scores[key].reason == ITEM_MISSING
        assert result.scores[key].detail == {"missing_items": ["global10r"]}
    assert result.scores["gph_t"].value == Decimal("44.9")  # unaffected: raw 14


def test_a_missing_pain_answer_is_not_a_zero(promis):
    # If a blank Global07 were read as 0 it would recode to 5 (best) and give raw 14.
    result = score(promis, {"global03": 3, "global06": 3, "global08r": 3, "global07": None})
    assert result.scores["gph_raw"].reason == ITEM_MISSING
    assert result.scores["gph_raw"].detail == {"missing_items": ["global07"]}


def test_global01_and_global09r_are_in_neither_summary(promis):
    base = {
        "global02": 3, "global03": 3, "global04": 3, "global05": 3, "global06": 3,
        "global07": 5, "global08r": 3, "global10r": 3,
    }  # fmt: skip
    low = score(promis, base | {"global01": 1, "global09r": 1})
    high = score(promis, base | {"global01": 5, "global09r": 5})
    assert low.scores == high.scores
