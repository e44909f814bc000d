"""Loading definitions: registry, public view, and the rules every definition file must follow."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from pro_server.instruments import (
    DefinitionError,
    InstrumentRegistry,
    UnknownInstrumentError,
    UnsupportedLanguageError,
    definitions,
    load_definition,
    load_registry,
)
from pro_server.instruments.definitions import parse_definition

EXPECTED_SCORE_KEYS = {
    "pain_nrs": ["pain_nrs"],
    "ptga_vas": ["ptga_mm", "ptga_cm"],
    "haq_di": ["haq_di", "haq_di_without_aids", "dressing", "arising", "eating", "walking",
               "hygiene", "reach", "grip", "activities"],
    "rand36": ["physical_functioning", "role_physical", "role_emotional", "energy_fatigue",
               "emotional_wellbeing", "social_functioning", "pain", "general_health"],
    "promis_gh": ["gph_raw", "gph_t", "gph_se", "gmh_raw", "gmh_t", "gmh_se"],
}  # fmt: skip
ITEM_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
TESTCD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,7}$")


def test_the_five_instruments_are_registered(registry):
    assert [(d.code, d.version) for d in registry.all()] == [
        ("haq_di", "1.0"), ("pain_nrs", "1.0"), ("promis_gh", "1.2"), ("ptga_vas", "1.0"),
        ("rand36", "1.0"),
    ]  # fmt: skip
    assert {d.code: d.score_keys for d in registry.all()} == EXPECTED_SCORE_KEYS
    assert len(registry) == 5
    assert "haq_di" in registry
    assert "sf36" not in registry


def test_every_definition_follows_the_naming_and_language_rules(registry):
    for definition in registry.all():
        ids = [item.id for item in definition.items]
        assert all(ITEM_ID.match(i) for i in ids), definition.code
        codes = [i.sdtm_testcd for i in definition.items] + [
            s.sdtm_testcd for s in definition.scores
        ]
        assert all(TESTCD.match(c) for c in codes), definition.code
        assert len(set(codes)) == len(codes)
        assert definition.sdtm_qscat
        assert set(definition.languages) == {"en", "es"}
        for language in definition.languages.values():
            assert isinstance(language["validated"], bool)
            assert language["source"]
        assert definition.source["citation"]
        assert definition.source["text_source"]
        assert definition.licence


def test_spanish_flags(registry):
    validated = {d.code: d.languages["es"]["validated"] for d in registry.all()}
    assert validated == dict.fromkeys(EXPECTED_SCORE_KEYS, False)
    assert all(d.languages["en"]["validated"] for d in registry.all())


@pytest.mark.parametrize("lang", ["en", "es"])
def test_public_dict_is_json_ready_and_in_official_order(registry, lang):
    for definition in registry.all():
        public = json.loads(json.dumps(definition.to_public_dict(lang)))
        assert public["language"] == lang
        assert public["validated"] is definition.languages[lang]["validated"]
        assert [i["id"] for i in public["items"]] == [i.id for i in definition.items]


def test_public_dict_content(haq, ptga):
    public = haq.to_public_dict("es")
    assert public["title"] == haq.title["es"]
    assert public["recall_period"] == "la última semana"
    dress = public["items"][0]
    assert dress["options"][3] == {"code": 3, "label": "NO PUEDO hacerlo"}
    assert dress["enable_when"] is None
    other = next(i for i in public["items"] if i["id"] == "aids_other_p1")
    assert other["enable_when"] == {"item": "aids_p1", "contains": "other"}
    assert public["sections"][0]["instructions"] == "¿Es usted capaz de:"
    vas = ptga.to_public_dict("en")["items"][0]
    assert (vas["min"], vas["max"], vas["unit"]) == (0, 100, "mm")
    assert vas["anchors"] == {"min": "Inactive disease", "max": "Extremely severe disease activity"}
    assert "options" not in vas


def test_public_dict_carries_source_licence_and_scoring(registry, haq):
    public = haq.to_public_dict("es")
    assert public["languages"]["es"]["validated"] is False
    assert public["languages"]["en"]["validated"] is True
    assert "Fries JF" in public["source"]["citation"]
    assert public["licence"] == haq.licence
    assert public["scoring"]["method"] == "haq_di"
    assert public["scoring"]["algorithm_version"] == "1.0.0"
    assert public["scoring"]["params"]["min_categories_answered"] == 6
    hygiene = next(c for c in public["scoring"]["params"]["categories"] if c["key"] == "hygiene")
    assert "bathtub_seat" in hygiene["aids"]
    for definition in registry.all():  # plain JSON: the frozen parameters are thawed
        public = definition.to_public_dict("en")
        assert json.loads(json.dumps(public["scoring"]))["params"] == public["scoring"]["params"]


def test_unsupported_language(haq):
    with pytest.raises(UnsupportedLanguageError, match="no 'fr' text"):
        haq.to_public_dict("fr")


def test_registry_lookup(registry, raw_document):
    assert registry.get("rand36").version == "1.0"
    assert registry.get("rand36", "1.0").code == "rand36"
    with pytest.raises(UnknownInstrumentError):
        registry.get("rand36", "2.0")
    with pytest.raises(UnknownInstrumentError):
        registry.get("sf36")
    versions = []
    for version in ("1.2", "1.10", "1.9"):
        doc = raw_document("pain_nrs-1.0")
        doc["version"] = version
        versions.append(parse_definition(doc))
    several = InstrumentRegistry(versions)
    assert several.versions("pain_nrs") == ["1.2", "1.9", "1.10"]
    assert several.get("pain_nrs").version == "1.10"


def test_a_version_can_only_be_registered_once(pain_nrs):
    with pytest.raises(DefinitionError, match="already defined"):
        InstrumentRegistry([pain_nrs, pain_nrs])


def test_load_registry_from_another_directory(tmp_path, questionnaire_file):
    for stem in ("pain_nrs-1.0", "ptga_vas-1.0"):
        shutil.copy(questionnaire_file(stem), tmp_path)
    assert [d.code for d in load_registry(str(tmp_path)).all()] == ["pain_nrs", "ptga_vas"]
    with pytest.raises(DefinitionError, match="directory not found"):
        load_registry(tmp_path / "missing")


def test_file_name_must_match_code_and_version(tmp_path, questionnaire_file):
    wrong = tmp_path / "pain_nrs-2.0.yaml"
    shutil.copy(questionnaire_file("pain_nrs-1.0"), wrong)
    with pytest.raises(DefinitionError, match=r"file name must be pain_nrs-1\.0\.yaml"):
        load_definition(wrong)


def test_unreadable_files(tmp_path):
    broken = tmp_path / "x-1.0.yaml"
    broken.write_text("code: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="cannot read YAML"):
        load_definition(broken)
    with pytest.raises(DefinitionError, match="cannot read YAML"):
        load_definition(tmp_path / "absent-1.0.yaml")


def test_files_read_as_safe_load_reads_them(questionnaire_file):
    """The definitions are read with libyaml's parser (when PyYAML has it), as fast as the
    rest of loading: it must read every questionnaire as PyYAML's own safe_load does."""
    for name in ("haq_di-1.0", "pain_nrs-1.0", "promis_gh-1.2", "ptga_vas-1.0", "rand36-1.0"):
        text = questionnaire_file(name).read_text(encoding="utf-8")
        assert yaml.load(text, Loader=definitions._SAFE_LOADER) == yaml.safe_load(text)  # noqa: S506
    assert definitions._SAFE_LOADER is yaml.CSafeLoader  # this environment has libyaml


def test_definitions_are_immutable(haq):
    with pytest.raises(AttributeError):
        haq.code = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        haq.scoring.params["min_categories_answered"] = 1  # type: ignore[index]
