"""Instrument definitions: immutable objects built from the YAML files in ``questionnaires/``.

One YAML file per instrument version is checked against
``questionnaires/schema/instrument.schema.json`` (structure), then by :func:`semantic_errors` and
the scoring method's own ``check_params`` (cross-references: sections, option codes, languages,
scoring parameters). A definition that fails any check is refused at load time, so the scoring and
validation code can trust what it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from pro_server.instruments.oids import MULTI, item_oid
from pro_server.instruments.scoring.engine import check_definition
from pro_server.resources import example_studies_dir, questionnaires_dir
from pro_server.study_paths import instrument_dirs

QUESTIONNAIRES_DIR = questionnaires_dir()
# The example study folders shipped with the code: the default of PRO_STUDIES_PATH.
EXAMPLE_STUDIES_DIR = example_studies_dir()
SCHEMA_PATH = QUESTIONNAIRES_DIR / "schema" / "instrument.schema.json"

CHOICE_TYPES = frozenset({"single_choice", "multi_choice"})
NUMERIC_TYPES = frozenset({"nrs", "vas"})

LocalizedText = Mapping[str, str]


class DefinitionError(ValueError):
    """A definition file is unreadable or breaks the schema or a cross-reference rule."""

    def __init__(self, origin: str, messages: Iterable[str]) -> None:
        self.origin = origin
        self.messages = list(messages)
        super().__init__(f"{origin}: " + "; ".join(self.messages))


class UnknownInstrumentError(LookupError):
    """No definition with that code (and version) is registered."""


class UnsupportedLanguageError(ValueError):
    """The definition has no text in the requested language."""


@dataclass(frozen=True)
class Option:
    code: int | str
    label: LocalizedText


@dataclass(frozen=True)
class EnableWhen:
    """The item applies only when the multi-choice answer to ``item`` includes ``contains``."""

    item: str
    contains: str


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    sdtm_testcd: str
    type: str
    required: bool
    text: LocalizedText
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    unit: str | None = None
    anchors: Mapping[str, LocalizedText] | None = None
    enable_when: EnableWhen | None = None
    text_source: str | None = None

    @cached_property  # every answer checked reads it (a submission: hundreds of times)
    def option_codes(self) -> tuple[int | str, ...]:
        return tuple(option.code for option in self.options)

    @property
    def bounds(self) -> tuple[int, int]:
        """A numeric item's (min, max); the instrument schema requires both for one."""
        if self.min is None or self.max is None:
            raise ValueError(f"item {self.id} has no min and max")
        return self.min, self.max

    @cached_property  # every answer checked reads it
    def plain_values(self) -> frozenset[int]:
        """The integer answers a single-choice or numeric item accepts (`possible_values`);
        none for a multi-choice item, whose answer is a list."""
        return frozenset(() if self.type == "multi_choice" else self.possible_values)

    @property
    def possible_values(self) -> tuple[int, ...]:
        """Every integer answer a single-choice or numeric item accepts."""
        if self.type in NUMERIC_TYPES:
            low, high = self.bounds
            return tuple(range(low, high + 1))
        return tuple(code for code in self.option_codes if isinstance(code, int))


@dataclass(frozen=True)
class Section:
    id: str
    title: LocalizedText
    instructions: LocalizedText | None = None


@dataclass(frozen=True)
class ScoreSpec:
    key: str
    sdtm_testcd: str
    label: LocalizedText
    precision: str
    unit: str | None = None
    sdtm_test: str | None = None  # QSTEST text when the label would be cut at 40 characters


@dataclass(frozen=True)
class ScoringSpec:
    method: str
    algorithm: str
    algorithm_version: str
    params: Mapping[str, Any]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecallPeriod:
    iso8601: str | None
    text: LocalizedText


@dataclass(frozen=True)
class InstrumentDefinition:
    code: str
    version: str
    title: LocalizedText
    sdtm_qscat: str
    source: Mapping[str, Any]
    licence: str
    recall_period: RecallPeriod
    languages: Mapping[str, Mapping[str, Any]]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    scores: tuple[ScoreSpec, ...]
    scoring: ScoringSpec
    instructions: LocalizedText | None = None
    attribution: LocalizedText | None = None
    notes: tuple[str, ...] = ()
    origin: str = "<memory>"
    items_by_id: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "items_by_id", MappingProxyType({item.id: item for item in self.items})
        )

    @cached_property  # every export text of a version reads it
    def item_oids(self) -> tuple[tuple[str, str, tuple[tuple[Any, str], ...] | None], ...]:
        """Per item in order: its id, its ItemOID and, for a multi-choice item, each
        option's code with its own ItemOID (`oids.item_oid`); else None."""
        return tuple(
            (item.id, item_oid(self.code, item.id),
             tuple((option.code, item_oid(self.code, item.id, str(option.code)))
                   for option in item.options) if item.type == MULTI else None)
            for item in self.items)

    @property
    def score_keys(self) -> list[str]:
        return [spec.key for spec in self.scores]

    def item(self, item_id: str) -> Item:
        return self.items_by_id[item_id]

    def to_public_dict(self, lang: str) -> dict[str, Any]:
        """The definition in one language, JSON-ready, items in official order.

        Also its language-independent facts: every language's validation status, source citation,
        licence note, notes, and the scoring method with its parameters (so a score can be
        checked by hand against the published rules).
        """
        if lang not in self.languages:
            raise UnsupportedLanguageError(
                f"{self.code} {self.version} has no '{lang}' text "
                f"(available: {', '.join(sorted(self.languages))})"
            )
        language = self.languages[lang]

        def text(localized: LocalizedText | None) -> str | None:
            return None if localized is None else localized[lang]

        return {
            "code": self.code,
            "version": self.version,
            "language": lang,
            "validated": language["validated"],
            "language_source": language["source"],
            "title": text(self.title),
            "instructions": text(self.instructions),
            "recall_period": text(self.recall_period.text),
            "attribution": text(self.attribution),
            "sections": [
                {"id": s.id, "title": text(s.title), "instructions": text(s.instructions)}
                for s in self.sections
            ],
            "items": [_public_item(item, lang) for item in self.items],
            "scores": [{"key": s.key, "label": text(s.label), "unit": s.unit} for s in self.scores],
            "languages": _thaw(self.languages),
            "source": _thaw(self.source),
            "licence": self.licence,
            "notes": list(self.notes),
            "scoring": {
                "method": self.scoring.method,
                "algorithm": self.scoring.algorithm,
                "algorithm_version": self.scoring.algorithm_version,
                "params": _thaw(self.scoring.params),
                "notes": list(self.scoring.notes),
            },
        }


def _public_item(item: Item, lang: str) -> dict[str, Any]:
    public: dict[str, Any] = {
        "id": item.id,
        "section": item.section,
        "type": item.type,
        "required": item.required,
        "text": item.text[lang],
        "enable_when": None
        if item.enable_when is None
        else {"item": item.enable_when.item, "contains": item.enable_when.contains},
    }
    if item.type in CHOICE_TYPES:
        public["options"] = [{"code": o.code, "label": o.label[lang]} for o in item.options]
    else:
        anchors = item.anchors or {}
        public.update(
            min=item.min,
            max=item.max,
            unit=item.unit,
            anchors={end: anchors[end][lang] for end in ("min", "max")},
        )
    return public


# --- building and checking -------------------------------------------------------------------


@cache
def _schema_validator(schema_path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(v) for key, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """The JSON-ready (dict and list) copy of a value made by :func:`_freeze`."""
    if isinstance(value, Mapping):
        return {key: _thaw(v) for key, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _localized(value: Mapping[str, str] | None) -> LocalizedText | None:
    return None if value is None else MappingProxyType(dict(value))


def _build(doc: Mapping[str, Any], origin: str) -> InstrumentDefinition:
    def item(raw: Mapping[str, Any]) -> Item:
        enable_when = raw.get("enable_when")
        anchors = raw.get("anchors")
        return Item(
            id=raw["id"],
            section=raw["section"],
            sdtm_testcd=raw["sdtm_testcd"],
            type=raw["type"],
            required=raw["required"],
            text=MappingProxyType(dict(raw["text"])),
            options=tuple(
                Option(code=o["code"], label=MappingProxyType(dict(o["label"])))
                for o in raw.get("options", ())
            ),
            min=raw.get("min"),
            max=raw.get("max"),
            unit=raw.get("unit"),
            anchors=None
            if anchors is None
            else MappingProxyType({end: MappingProxyType(dict(anchors[end]))
                                   for end in ("min", "max")}),
            enable_when=None if enable_when is None else EnableWhen(**enable_when),
            text_source=raw.get("text_source"),
        )

    scoring = doc["scoring"]
    return InstrumentDefinition(
        code=doc["code"],
        version=doc["version"],
        title=MappingProxyType(dict(doc["title"])),
        sdtm_qscat=doc["sdtm_qscat"],
        source=_freeze(doc["source"]),
        licence=doc["licence"],
        recall_period=RecallPeriod(
            iso8601=doc["recall_period"]["iso8601"],
            text=MappingProxyType(dict(doc["recall_period"]["text"])),
        ),
        languages=_freeze(doc["languages"]),
        sections=tuple(
            Section(
                id=s["id"],
                title=MappingProxyType(dict(s["title"])),
                instructions=_localized(s.get("instructions")),
            )
            for s in doc["sections"]
        ),
        items=tuple(item(raw) for raw in doc["items"]),
        scores=tuple(
            ScoreSpec(
                key=s["key"],
                sdtm_testcd=s["sdtm_testcd"],
                label=MappingProxyType(dict(s["label"])),
                precision=s["precision"],
                unit=s.get("unit"),
                sdtm_test=s.get("sdtm_test"),
            )
            for s in doc["scores"]
        ),
        scoring=ScoringSpec(
            method=scoring["method"],
            algorithm=scoring["algorithm"],
            algorithm_version=scoring["algorithm_version"],
            params=_freeze(scoring["params"]),
            notes=tuple(scoring.get("notes", ())),
        ),
        instructions=_localized(doc.get("instructions")),
        attribution=_localized(doc.get("attribution")),
        notes=tuple(doc.get("notes", ())),
        origin=origin,
    )


def _duplicates(values: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    repeated: list[Any] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def _localized_texts(definition: InstrumentDefinition) -> Iterator[tuple[str, LocalizedText]]:
    """Every translatable text, with a label saying where it is."""
    yield "title", definition.title
    yield "recall_period.text", definition.recall_period.text
    for where, text in (
        ("instructions", definition.instructions),
        ("attribution", definition.attribution),
    ):
        if text is not None:
            yield where, text
    for section in definition.sections:
        yield f"section {section.id} title", section.title
        if section.instructions is not None:
            yield f"section {section.id} instructions", section.instructions
    for item in definition.items:
        yield f"item {item.id} text", item.text
        for option in item.options:
            yield f"item {item.id} option {option.code!r}", option.label
        for end, anchor in (item.anchors or {}).items():
            yield f"item {item.id} anchor {end}", anchor
    for score in definition.scores:
        yield f"score {score.key} label", score.label


def semantic_errors(definition: InstrumentDefinition) -> list[str]:
    """Cross-reference rules the JSON Schema cannot express (scoring parameters excluded)."""
    errors: list[str] = []
    languages = set(definition.languages)
    section_ids = [s.id for s in definition.sections]
    items = definition.items_by_id
    for what, values in (
        ("section id", section_ids),
        ("item id", [i.id for i in definition.items]),
        ("score key", definition.score_keys),
        (
            "sdtm_testcd",
            [i.sdtm_testcd for i in definition.items] + [s.sdtm_testcd for s in definition.scores],
        ),
    ):
        errors += [f"duplicate {what} {value!r}" for value in _duplicates(values)]
    for where, text in _localized_texts(definition):
        if set(text) != languages:
            errors.append(
                f"{where} has languages {sorted(text)}, the instrument declares {sorted(languages)}"
            )
    for position, item in enumerate(definition.items):
        if item.section not in section_ids:
            errors.append(f"item {item.id} is in unknown section {item.section!r}")
        errors += [
            f"item {item.id} has duplicate option code {code!r}"
            for code in _duplicates(item.option_codes)
        ]
        if item.type in NUMERIC_TYPES and item.bounds[0] >= item.bounds[1]:
            errors.append(f"item {item.id} has min >= max")
        if item.enable_when is not None:
            trigger = items.get(item.enable_when.item)
            earlier = {i.id for i in definition.items[:position]}
            if trigger is None or trigger.id not in earlier or trigger.type != "multi_choice":
                errors.append(f"item {item.id} enable_when must name an earlier multi_choice item")
            elif item.enable_when.contains not in trigger.option_codes:
                errors.append(
                    f"item {item.id} enable_when code {item.enable_when.contains!r} "
                    f"is not an option of {trigger.id}"
                )
    return errors


def parse_definition(document: Any, *, origin: str = "<memory>") -> InstrumentDefinition:
    """Check a parsed YAML document and build its definition (raises :class:`DefinitionError`)."""
    try:
        # JSON semantics: what the schema sees is exactly what is stored (int keys become
        # strings, YAML dates or other non-JSON values are refused).
        doc = json.loads(json.dumps(document))
    except (TypeError, ValueError) as exc:
        raise DefinitionError(origin, [f"not JSON-compatible data: {exc}"]) from exc
    schema_errors = sorted(
        _schema_validator(SCHEMA_PATH).iter_errors(doc), key=lambda e: list(e.absolute_path)
    )
    if schema_errors:
        raise DefinitionError(
            origin,
            [
                f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
                for e in schema_errors
            ],
        )
    definition = _build(doc, origin)
    errors = semantic_errors(definition)
    if not errors:
        errors = check_definition(definition)
    if errors:
        raise DefinitionError(origin, errors)
    return definition


# safe_load's loader with libyaml's parser when PyYAML has it: the same documents, a tenth of
# the time (reading the instruments was half of loading the registry, which every process
# does once, before its first export or questionnaire).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_definition(path: Path) -> InstrumentDefinition:
    """Load one ``<code>-<version>.yaml`` file; the file name must match its code and version."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(str(path), [f"cannot read YAML: {exc}"]) from exc
    definition = parse_definition(document, origin=str(path))
    expected = f"{definition.code}-{definition.version}"
    if path.stem != expected:
        raise DefinitionError(str(path), [f"file name must be {expected}.yaml"])
    return definition


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class InstrumentRegistry:
    """All loaded definitions, looked up by code and optional version (default: the latest)."""

    def __init__(self, definitions: Iterable[InstrumentDefinition]) -> None:
        self._by_key: dict[tuple[str, str], InstrumentDefinition] = {}
        for definition in definitions:
            key = (definition.code, definition.version)
            if key in self._by_key:
                raise DefinitionError(
                    definition.origin,
                    [f"{definition.code} {definition.version} is already defined"],
                )
            self._by_key[key] = definition
        # Each code's latest version, looked up once: a submission asks for it per answer set.
        self._latest = {code: self._by_key[(code, self.versions(code)[-1])]
                        for code, _version in self._by_key}

    def get(self, code: str, version: str | None = None) -> InstrumentDefinition:
        if version is not None:
            try:
                return self._by_key[(code, version)]
            except KeyError:
                raise UnknownInstrumentError(f"no instrument {code} version {version}") from None
        latest = self._latest.get(code)
        if latest is None:
            raise UnknownInstrumentError(f"no instrument {code}")
        return latest

    def versions(self, code: str) -> list[str]:
        return sorted((v for c, v in self._by_key if c == code), key=_version_key)

    def all(self) -> list[InstrumentDefinition]:
        return [
            self._by_key[key]
            for key in sorted(self._by_key, key=lambda k: (k[0], _version_key(k[1])))
        ]

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, code: object) -> bool:
        return any(c == code for c, _ in self._by_key)


def load_registry(path: Path | str | None = None) -> InstrumentRegistry:
    """Load every ``*.yaml`` definition in ``path`` (default: the repository's questionnaires/)."""
    directory = QUESTIONNAIRES_DIR if path is None else Path(path)
    if not directory.is_dir():
        raise DefinitionError(str(directory), ["questionnaire directory not found"])
    return InstrumentRegistry(load_definition(file) for file in sorted(directory.glob("*.yaml")))


@cache
def default_registry() -> InstrumentRegistry:
    """questionnaires/ plus the own instruments of every study folder on PRO_STUDIES_PATH,
    loaded once per process."""
    return InstrumentRegistry(
        definition
        for directory in (QUESTIONNAIRES_DIR, *instrument_dirs())
        for definition in load_registry(directory).all()
    )
