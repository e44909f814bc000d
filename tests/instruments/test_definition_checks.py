"""A definition file that breaks a rule is refused at load time, with a message saying why."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from pro_server.instruments import DefinitionError
from pro_server.instruments.definitions import parse_definition
from pro_server.instruments.scoring import check_definition


def refused(doc: dict) -> str:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(doc, origin="test")
    return "; ".join(caught.value.messages)


def item(doc: dict, item_id: str) -> dict:
    return next(i for i in doc["items"] if i["id"] == item_id)


def test_the_real_files_pass(registry):
    assert all(check_definition(d) == [] for d in registry.all())


def test_schema_violations(raw_document):
    doc = raw_document("pain_nrs-1.0")
    del doc["code"]
    doc["items"][0]["id"] = "Pain-NRS"
    doc["scores"][0]["sdtm_testcd"] = "9PAINSCORE"
    message = refused(doc)
    assert "'code' is a required property" in message
    assert "items/0/id: 'Pain-NRS' does not match" in message
    assert "scores/0/sdtm_testcd" in message


def test_non_json_values_are_refused(raw_document):
    doc = raw_document("pain_nrs-1.0")
    doc["version"] = dt.date(2026, 1, 1)
    assert "not JSON-compatible" in refused(doc)


def test_item_types_need_their_own_fields(raw_document):
    doc = raw_document("pain_nrs-1.0")
    doc["items"][0]["options"] = [{"code": 0, "label": {"en": "a", "es": "b"}}]
    assert "items/0" in refused(doc)
    doc = raw_document("ptga_vas-1.0")
    doc["items"][0]["max"] = 10  # a VAS is 0-100 mm
    assert "items/0/max" in refused(doc)


@pytest.mark.parametrize(
    ("stem", "mutate", "expected"),
    [
        (
            "haq_di-1.0",
            lambda d: d["items"].append(dict(d["items"][0], sdtm_testcd="HAQ99")),
            "duplicate item id 'dress'",
        ),
        (
            "haq_di-1.0",
            lambda d: d["items"][1].update(sdtm_testcd="HAQ01"),
            "duplicate sdtm_testcd",
        ),
        (
            "haq_di-1.0",
            lambda d: d["scores"][2].update(sdtm_testcd="HAQ01"),
            "duplicate sdtm_testcd",
        ),
        ("haq_di-1.0", lambda d: d["sections"].append(d["sections"][0]), "duplicate section id"),
        ("haq_di-1.0", lambda d: d["items"][0]["text"].pop("es"), "item dress text has languages"),
        ("haq_di-1.0", lambda d: d["sections"][0]["instructions"].pop("es"), "instructions has"),
        ("haq_di-1.0", lambda d: d["items"][0].update(section="nowhere"), "unknown section"),
        (
            "haq_di-1.0",
            lambda d: d["items"][0]["options"].append(d["items"][0]["options"][0]),
            "duplicate option code 0",
        ),
        ("pain_nrs-1.0", lambda d: d["items"][0].update(min=10), "has min >= max"),
        (
            "haq_di-1.0",
            lambda d: item(d, "aids_other_p1").update(
                enable_when={"item": "chores", "contains": "x"}
            ),
            "enable_when must name an earlier multi_choice item",
        ),
        (
            "haq_di-1.0",
            lambda d: item(d, "aids_other_p1")["enable_when"].update(contains="jar_opener"),
            "enable_when code 'jar_opener' is not an option of aids_p1",
        ),
    ],
)
def test_semantic_rules(raw_document, stem, mutate, expected):
    doc = raw_document(stem)
    mutate(doc)
    assert expected in refused(doc)


def params(doc: dict) -> dict:
    return doc["scoring"]["params"]


@pytest.mark.parametrize(
    ("stem", "mutate", "expected"),
    [
        (
            "pain_nrs-1.0",
            lambda d: params(d).update(item="nope"),
            "single_value: params.item must name an nrs item",
        ),
        ("ptga_vas-1.0", lambda d: params(d).update(item="nope"), "vas: params.item must name"),
        (
            "pain_nrs-1.0",
            lambda d: d["scoring"].update(algorithm_version="9.9.9"),
            "scoring declares nrs_single_item 9.9.9, the code implements nrs_single_item 1.0.0",
        ),
        ("haq_di-1.0", lambda d: d["scores"].pop(8), "scores must be exactly"),
        (
            "haq_di-1.0",
            lambda d: params(d)["aid_items"].append("dress"),
            "haq_di: 'dress' must be a multi_choice item",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d)["categories"][0]["items"].append("aids_p1"),
            "haq_di: 'aids_p1' must be a single_choice item coded 0-3",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d)["categories"][0]["aids"].append("rocket"),
            "haq_di: aid 'rocket' is not an option of any aid item",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d)["categories"][0].update(help_code="flying"),
            "haq_di: help code 'flying' is not a help option",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d)["other_aid"].update(code="cane"),
            "haq_di: 'aids_p2' has no 'cane' option",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d)["other_aid"]["category_items"].update(aids_p1="aids_p2"),
            "haq_di: 'aids_p2' options",
        ),
        (
            "haq_di-1.0",
            lambda d: params(d).update(min_categories_answered=9),
            "haq_di: min_categories_answered exceeds the number of categories",
        ),
        (
            "rand36-1.0",
            lambda d: params(d)["item_recode"].update(rand99="asc3"),
            "rand36: 'rand99' must be a single_choice item",
        ),
        (
            "rand36-1.0",
            lambda d: params(d)["item_recode"].update(rand01="nope"),
            "rand36: 'rand01' uses unknown recode table 'nope'",
        ),
        (
            "rand36-1.0",
            lambda d: params(d)["recode_tables"]["asc2"].pop("2"),
            "rand36: table 'asc2' does not cover exactly rand13's codes",
        ),
        (
            "rand36-1.0",
            lambda d: params(d)["recode_tables"]["desc5"].update({"1": 101}),
            "rand36: table 'desc5' has values outside 0-100",
        ),
        (
            "rand36-1.0",
            lambda d: params(d)["item_recode"].pop("rand03"),
            "rand36: scale physical_functioning item 'rand03' has no recode table",
        ),
        (
            "promis_gh-1.2",
            lambda d: params(d)["summaries"][0]["items"].append("nope"),
            "promis_global: 'nope' must be a single_choice or nrs item",
        ),
        (
            "promis_gh-1.2",
            lambda d: params(d)["summaries"][0]["recode"]["global07"].pop("10"),
            "promis_global: recode of global07 must cover exactly its answers",
        ),
        (
            "promis_gh-1.2",
            lambda d: params(d)["summaries"][1]["table"].pop("20"),
            "promis_global: gmh_raw table must cover exactly raw 4-20",
        ),
    ],
)
def test_scoring_parameters_are_cross_checked(raw_document, stem, mutate, expected):
    doc = raw_document(stem)
    mutate(doc)
    assert expected in refused(doc)


def test_unknown_scoring_method(pain_nrs):
    broken = dataclasses.replace(
        pain_nrs, scoring=dataclasses.replace(pain_nrs.scoring, method="magic")
    )
    assert check_definition(broken) == ["unknown scoring method 'magic'"]
