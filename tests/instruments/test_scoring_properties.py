"""Property-based checks of the scoring rules over generated answer sets (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pro_server.instruments import load_registry, score
from pro_server.instruments.definitions import InstrumentDefinition
from pro_server.instruments.scoring import TOO_FEW_CATEGORIES
from pro_server.instruments.scoring.common import rounded_ratio


def answer_sets(definition: InstrumentDefinition) -> st.SearchStrategy[dict]:
    """Any valid partial answer set: every item blank (absent or None) or a valid answer."""
    per_item = {}
    for item in definition.items:
        if item.type == "multi_choice":
            answer = st.lists(st.sampled_from(item.option_codes), unique=True)
        else:
            answer = st.sampled_from(item.possible_values)
        per_item[item.id] = st.one_of(st.just(None), answer)
    return st.fixed_dictionaries({}, optional=per_item)


DEFINITIONS = {d.code: d for d in load_registry().all()}
HAQ = DEFINITIONS["haq_di"]
RAND = DEFINITIONS["rand36"]
PROMIS = DEFINITIONS["promis_gh"]
AID_CODES = [
    (item_id, code) for item_id in ("aids_p1", "aids_p2") for code in HAQ.item(item_id).option_codes
]


@given(answer_sets(HAQ))
def test_haq_di_is_in_0_3_and_a_multiple_of_1_over_categories_answered(answers):
    result = score(HAQ, answers)
    answered = sum(
        any(answers.get(i) is not None for i in category["items"])
        for category in HAQ.scoring.params["categories"]
    )
    for key in ("haq_di", "haq_di_without_aids"):
        index = result.scores[key]
        if answered < 6:
            assert index.value is None
            assert index.reason == TOO_FEW_CATEGORIES
            continue
        numerator, denominator = index.detail["numerator"], index.detail["denominator"]
        assert denominator == answered
        assert 0 <= numerator <= 3 * denominator
        exact = Fraction(numerator, denominator)  # a multiple of 1/n by construction
        assert (exact * denominator).denominator == 1
        assert Decimal(0) <= index.value <= Decimal(3)
        assert index.value == rounded_ratio(numerator, denominator, 3)
        assert abs(Fraction(index.value) - exact) <= Fraction(1, 2000)
    standard, alternative = result.scores["haq_di"], result.scores["haq_di_without_aids"]
    if standard.value is not None:
        assert standard.value >= alternative.value


@given(answer_sets(HAQ), st.sampled_from(AID_CODES))
def test_adding_an_aid_never_lowers_a_score(answers, aid):
    item_id, code = aid
    before = score(HAQ, answers).scores
    more = dict(answers)
    more[item_id] = sorted(set(answers.get(item_id) or ()) | {code})
    after = score(HAQ, more).scores
    for key, old in before.items():
        new = after[key]
        assert (old.value is None) == (new.value is None)
        if old.value is not None:
            assert new.value >= old.value
    assert after["haq_di_without_aids"] == before["haq_di_without_aids"]


@given(answer_sets(HAQ), st.sampled_from(["help_p1", "help_p2"]), st.data())
def test_adding_help_never_lowers_a_score(answers, item_id, data):
    code = data.draw(st.sampled_from(HAQ.item(item_id).option_codes))
    before = score(HAQ, answers).scores
    more = dict(answers)
    more[item_id] = sorted(set(answers.get(item_id) or ()) | {code})
    after = score(HAQ, more).scores
    for key, old in before.items():
        if old.value is not None:
            assert after[key].value >= old.value


@given(answer_sets(RAND))
def test_rand36_scales_are_within_0_100_or_absent_only_when_all_blank(answers):
    result = score(RAND, answers)
    for scale, item_ids in RAND.scoring.params["scales"].items():
        value = result.scores[scale].value
        all_blank = all(answers.get(i) is None for i in item_ids)
        assert (value is None) == all_blank
        if value is not None:
            assert Decimal(0) <= value <= Decimal(100)


@given(answer_sets(PROMIS))
def test_promis_t_scores_always_come_from_the_table(answers):
    result = score(PROMIS, answers)
    for summary in PROMIS.scoring.params["summaries"]:
        raw = result.scores[summary["raw_key"]]
        t_score, se = result.scores[summary["t_key"]], result.scores[summary["se_key"]]
        complete = all(answers.get(i) is not None for i in summary["items"])
        assert (raw.value is not None) == complete
        if not complete:
            assert t_score.value is None
            assert se.value is None
            continue
        row = summary["table"][str(raw.value)]
        assert 4 <= raw.value <= 20
        assert t_score.value == Decimal(row[0])
        assert se.value == Decimal(row[1])
        assert t_score.value in {Decimal(r[0]) for r in summary["table"].values()}
