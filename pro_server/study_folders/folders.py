"""A study as a folder of data, outside the code.

Layout of a study folder::

    study.yaml                          code, name, registry id, time zone, program name,
                                        instruments, languages, sites, protocol version files
    protocol/<code>.v<N>.yaml           one file per protocol version (listed in study.yaml)
    instruments/<code>-<version>.yaml   optional: the study's own instruments, checked like
                                        the ones in questionnaires/

The server loads every study folder found on ``PRO_STUDIES_PATH`` (directories separated
by ``os.pathsep``; each is a study folder or holds study folders; default: the examples
shipped in ``studies/``). :func:`check_study_folder` reports every problem it finds with
its file and line; no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from pro_server.errors import InvalidInput
from pro_server.instruments.definitions import (
    QUESTIONNAIRES_DIR,
    DefinitionError,
    InstrumentDefinition,
    InstrumentRegistry,
    load_definition,
    load_registry,
)
from pro_server.messaging.templates import validate_program_name
from pro_server.protocol.definitions import (
    ProtocolDefinition,
    ProtocolDefinitionError,
    ProtocolRegistry,
    Where,
    load_protocol_file,
)
from pro_server.studies.services import check_program_name
from pro_server.study_folders.marks import MarkedYaml, yaml_error_line
from pro_server.study_paths import (
    INSTRUMENTS_DIR,
    STUDY_FILE,
)
from pro_server.validation import is_timezone

SCHEMA_PATH = Path(__file__).with_name("study.schema.json")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a study folder, where it is."""

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return f"{where}: {self.message}"


class StudyFolderError(ValueError):
    """A study folder has problems; ``problems`` lists every one found."""

    def __init__(self, folder: Path, problems: list[Problem]) -> None:
        self.folder = folder
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    timezone: str
    contact_phone: str | None


@dataclass(frozen=True)
class LanguageSpec:
    code: str
    approval_reason: str | None


@dataclass(frozen=True)
class StudyFolder:
    """A checked study folder: everything ``pro study apply`` and ``preview`` need."""

    path: Path
    code: str
    name: str
    registry_id: str | None
    timezone: str
    program_name: str
    instruments: tuple[str, ...]
    languages: tuple[LanguageSpec, ...]
    sites: tuple[SiteSpec, ...]
    protocols: tuple[ProtocolDefinition, ...]
    own_instruments: tuple[InstrumentDefinition, ...]
    # "protocol v2" / "instrument pain_nrs 1.0" -> SHA-256 of the file's data (not its
    # comments or layout): what apply compares to tell a changed definition.
    fingerprints: Mapping[str, str]

    @property
    def current(self) -> ProtocolDefinition:
        return next(p for p in self.protocols if p.current)

    def protocol(self, version: int) -> ProtocolDefinition:
        for protocol in self.protocols:
            if protocol.version == version:
                return protocol
        raise LookupError(f"{self.code} has no protocol version {version} in {self.path}")


# -- checking one folder -----------------------------------------------------------------


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _shared_instruments() -> tuple[InstrumentDefinition, ...]:
    return tuple(load_registry(QUESTIONNAIRES_DIR).all())


def fingerprint(data: Any) -> str:
    """SHA-256 of a document's data in canonical JSON (comments and layout do not count)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_study_folder(folder: Path | str) -> StudyFolder:
    """The checked study folder, or StudyFolderError listing every problem."""
    study, problems = check_study_folder(folder)
    if problems or study is None:
        raise StudyFolderError(Path(folder), problems)
    return study


def check_study_folder(folder: Path | str) -> tuple[StudyFolder | None, list[Problem]]:
    """Check study.yaml, its protocol files and own instruments; every problem with its line."""
    return _Checker(Path(folder)).run()


class _Checker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []
        self.fingerprints: dict[str, str] = {}

    def problem(self, file: Path, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def run(self) -> tuple[StudyFolder | None, list[Problem]]:
        study_file = self.folder / STUDY_FILE
        doc = self._read(study_file)
        if doc is None:
            return None, self.problems
        data = doc.data
        errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path)))
        for error in errors:
            self.problem(study_file, doc.line(tuple(error.absolute_path)),
                         f"{_path_text(error.absolute_path)}: {error.message}")
        if errors:
            return None, self.problems
        self.fingerprints["study"] = fingerprint(data)
        self._check_identity(doc)
        registry = self._instruments()
        self._check_instruments(doc, registry)
        protocols = self._protocols(doc, registry)
        if self.problems:
            return None, self.problems
        return StudyFolder(
            path=self.folder, code=data["code"], name=data["name"],
            registry_id=data.get("registry_id"), timezone=data["timezone"],
            program_name=data["program_name"].strip(), instruments=tuple(data["instruments"]),
            languages=tuple(LanguageSpec(lang["code"], lang.get("approval_reason"))
                            for lang in data["languages"]),
            sites=tuple(SiteSpec(s["code"], s["name"], s["timezone"], s.get("contact_phone"))
                        for s in data["sites"]),
            protocols=protocols,
            own_instruments=tuple(d for d in registry.all() if d not in _shared_instruments()),
            fingerprints=dict(sorted(self.fingerprints.items())),
        ), []

    def _read(self, path: Path) -> MarkedYaml | None:
        if not path.is_file():
            self.problem(path, None, "file not found")
            return None
        try:
            return MarkedYaml(path)
        except yaml.YAMLError as exc:
            self.problem(path, yaml_error_line(exc), f"not valid YAML: {exc}")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(path, None, f"cannot read: {exc}")
        return None

    def _check_identity(self, doc: MarkedYaml) -> None:
        data, path = doc.data, doc.path
        if not is_timezone(data["timezone"]):
            self.problem(path, doc.line(("timezone",)),
                         f"timezone: unknown time zone {data['timezone']!r} (an IANA name such"
                         " as America/New_York)")
        try:
            validate_program_name(data["program_name"])
            check_program_name(data["program_name"].strip())
        except ValueError as exc:
            self.problem(path, doc.line(("program_name",)), f"program_name: {exc}")
        except InvalidInput as exc:
            reasons = "; ".join(m for ms in (exc.errors or {}).get("json", {}).values() for m in ms)
            self.problem(path, doc.line(("program_name",)), f"program_name: {reasons}")
        seen: set[str] = set()
        for n, site in enumerate(data["sites"]):
            if site["code"] in seen:
                self.problem(path, doc.line(("sites", n)), f"sites: {site['code']} twice")
            seen.add(site["code"])
            if not is_timezone(site["timezone"]):
                self.problem(path, doc.line(("sites", n, "timezone")),
                             f"site {site['code']}: unknown time zone {site['timezone']!r}")
        codes = [lang["code"] for lang in data["languages"]]
        for n, code in enumerate(codes):
            if codes.index(code) != n:
                self.problem(path, doc.line(("languages", n)), f"languages: {code} twice")

    def _instruments(self) -> InstrumentRegistry:
        """questionnaires/ plus this folder's own instruments (bad files become problems)."""
        own: list[InstrumentDefinition] = []
        directory = self.folder / INSTRUMENTS_DIR
        for file in sorted(directory.glob("*.yaml")) if directory.is_dir() else ():
            try:
                definition = load_definition(file)
            except DefinitionError as exc:
                for message in exc.messages:
                    self.problem(file, None, message)
                continue
            self.fingerprints[f"instrument {definition.code} {definition.version}"] = (
                fingerprint(yaml.safe_load(file.read_text(encoding="utf-8"))))
            own.append(definition)
        shared = {(d.code, d.version) for d in _shared_instruments()}
        for definition in own:
            if (definition.code, definition.version) in shared:
                self.problem(Path(definition.origin), None,
                             f"{definition.code} {definition.version} is already defined in"
                             " questionnaires/; give the study's own instrument another code")
        return InstrumentRegistry(
            [*_shared_instruments(), *(d for d in own if (d.code, d.version) not in shared)])

    def _check_instruments(self, doc: MarkedYaml, registry: InstrumentRegistry) -> None:
        data, path = doc.data, doc.path
        for n, code in enumerate(data["instruments"]):
            if code not in registry:
                self.problem(path, doc.line(("instruments", n)),
                             f"instruments: unknown instrument {code!r} (not in questionnaires/"
                             f" nor in {INSTRUMENTS_DIR}/ of this folder)")
        known = [c for c in data["instruments"] if c in registry]
        for n, lang in enumerate(data["languages"]):
            missing = [c for c in known if lang["code"] not in registry.get(c).languages]
            if missing:
                self.problem(path, doc.line(("languages", n)),
                             f"language {lang['code']}: no text in {', '.join(missing)}")
                continue
            unvalidated = [c for c in known
                           if not registry.get(c).languages[lang["code"]].get("validated")]
            if unvalidated and not lang.get("approval_reason"):
                self.problem(path, doc.line(("languages", n)),
                             f"language {lang['code']}: not validated for"
                             f" {', '.join(unvalidated)}; give an approval_reason to collect"
                             " data in it anyway")

    def _protocols(
        self, doc: MarkedYaml, registry: InstrumentRegistry
    ) -> tuple[ProtocolDefinition, ...]:
        data = doc.data
        protocols: list[ProtocolDefinition] = []
        for n, name in enumerate(data["protocol_versions"]):
            file = self.folder / name
            protocol = self._protocol(file, doc.line(("protocol_versions", n)))
            if protocol is None:
                continue
            marked = MarkedYaml(file)
            # Which version is current moves on with each amendment; it is not what a
            # version means, so it is left out of the fingerprint.
            self.fingerprints[f"protocol v{protocol.version}"] = fingerprint(
                {k: v for k, v in marked.data.items() if k != "current"})
            if protocol.study_code != data["code"]:
                self.problem(file, marked.line(("study_code",)),
                             f"study_code {protocol.study_code} is not this study's code"
                             f" {data['code']}")
            self._check_protocol_instruments(marked, data["instruments"], registry)
            protocols.append(protocol)
        if self.problems:
            return ()
        try:
            ProtocolRegistry(protocols)
        except ProtocolDefinitionError as exc:
            self.problem(doc.path, doc.line(("protocol_versions",)), f"protocol_versions: {exc}")
            return ()
        return tuple(sorted(protocols, key=lambda p: p.version))

    def _protocol(self, file: Path, listed_at: int | None) -> ProtocolDefinition | None:
        study_file = self.folder / STUDY_FILE
        if not file.resolve().is_relative_to(self.folder.resolve()):
            self.problem(study_file, listed_at, f"{file} is outside the study folder")
            return None
        if not file.is_file():
            self.problem(study_file, listed_at, f"protocol_versions: {file.name} not found")
            return None
        try:
            return load_protocol_file(file)
        except ProtocolDefinitionError as exc:
            marked = self._read(file)  # an unreadable file is reported here, with its line
            for where, message in exc.problems if marked is not None else ():
                text = f"{_path_text(where)}: {message}" if where else message
                self.problem(file, marked.line(where), text)
            return None

    def _check_protocol_instruments(
        self, marked: MarkedYaml, study_instruments: list[str], registry: InstrumentRegistry
    ) -> None:
        for n, instrument_set in enumerate(marked.data["instrument_sets"]):
            for m, code in enumerate(instrument_set["instruments"]):
                where: Where = ("instrument_sets", n, "instruments", m)
                if code not in registry:
                    self.problem(marked.path, marked.line(where),
                                 f"instrument set {instrument_set['name']}: unknown instrument"
                                 f" {code!r} (not in questionnaires/ nor in"
                                 f" {INSTRUMENTS_DIR}/ of this folder)")
                elif code not in study_instruments:
                    self.problem(marked.path, marked.line(where),
                                 f"instrument set {instrument_set['name']}: {code} is not in"
                                 f" study.yaml's instruments")


def _path_text(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(root)"
