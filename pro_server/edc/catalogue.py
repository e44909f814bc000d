"""What the EDC exports describe, and the stable names every format uses for it (pure).

One place derives each identifier from the instrument and protocol definitions, so ODM,
REDCap, SDTM and FHIR always agree; docs/edc-mapping.md documents the scheme:

- study event (assessment) ``INF3_D30``: ODM ``SE.INF3_D30``, REDCap event ``inf3_d30_arm_1``,
  SDTM VISITNUM 330 / VISIT "INFUSION 3 DAY 30" (BASELINE: 1 / "BASELINE");
- instrument ``haq_di``: ODM form ``F.HAQ_DI``, item groups ``IG.HAQ_DI`` (answers),
  ``IG.HAQ_DI.SCORES`` and ``IG.HAQ_DI.ADMIN`` (versions, language, timestamps), REDCap form
  ``haq_di``, SDTM QSCAT from the definition;
- item ``dress``: ``I.HAQ_DI.DRESS``, code list ``CL.HAQ_DI.DRESS``, REDCap ``haq_di_haq01``,
  QSTESTCD ``HAQ01``; a multi-choice option ``cane`` of ``aids_p1``: ``I.HAQ_DI.AIDS_P1.CANE``
  (Y/N), REDCap checkbox ``haq_di_haqaid1___1``, QSTESTCD ``HAQAID11``;
- score ``haq_di``: ``I.HAQ_DI.SCORE.HAQ_DI``, method ``MT.HAQ_DI``, REDCap ``haq_di_haqdi``,
  QSTESTCD ``HAQDI`` (QSDRVFL "Y").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from pro_server.instruments.definitions import (
    InstrumentDefinition,
    InstrumentRegistry,
    Item,
    ScoreSpec,
)
from pro_server.instruments.oids import (  # noqa: F401 (the EDC formats' one place)
    CHECKED,
    MULTI,
    NOT_CHECKED,
    admin_oid,
    form_key,
    item_group_oid,
    item_oid,
    score_oid,
)
from pro_server.protocol.definitions import ProtocolRegistry

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
QSTEST_MAX = 40
TESTCD_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")
_EVENT_RE = re.compile(r"^INF(\d+)_D(\d+)$")

# Per-form metadata items carried next to every value (ODM item group IG.<FORM>.ADMIN).
ADMIN_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("INSTRUMENT_VERSION", "text", "Instrument version"),
    ("ALGORITHM", "text", "Scoring algorithm"),
    ("ALGORITHM_VERSION", "text", "Scoring algorithm version"),
    ("LANGUAGE", "text", "Language the participant answered in"),
    ("STARTED", "datetime", "Started (participant's local time with UTC offset)"),
    ("SUBMITTED", "datetime", "Submitted (participant's local time with UTC offset)"),
    ("RESPONSE_VERSION", "integer", "Version of this response (1 = as submitted)"),
    ("TIMING", "text", "on_time or late (submitted after the window closed)"),
)


class CatalogueError(ValueError):
    """A definition yields an identifier that a target format cannot carry."""


@dataclass(frozen=True)
class Event:
    code: str
    order: int
    visitnum: int
    visit: str
    description: str
    instruments: tuple[str, ...]
    visitdy: int | None = None  # planned study day (day 1 = first infusion); None: baseline

    @property
    def oid(self) -> str:
        return f"SE.{self.code}"

    @property
    def redcap_name(self) -> str:
        return f"{self.code.lower()}_arm_1"


def event_numbers(code: str) -> tuple[int, str]:
    """(VISITNUM, VISIT) for an assessment code: BASELINE is 1, INFn_Dd is 100 n + d."""
    match = _EVENT_RE.match(code)
    if match is None:
        return (1, "BASELINE") if code == "BASELINE" else (0, code.upper())
    infusion, day = int(match.group(1)), int(match.group(2))
    return infusion * 100 + day, f"INFUSION {infusion} DAY {day}"


def study_events(protocols: ProtocolRegistry, study_code: str) -> list[Event]:
    """Every assessment any protocol version of the study defines, in calendar order."""
    windows: dict[str, str] = {}
    instruments: dict[str, list[str]] = {}
    visitdy: dict[str, int] = {}
    for protocol in protocols.versions(study_code):  # oldest first: the newest plan wins
        for a in protocol.assessments:
            visitdy[a.code] = protocol.infusion(a.infusion).planned_day + a.day + 1
        specs = [(protocol.baseline.code, protocol.baseline.instruments, "before infusion 1")]
        specs += [(a.code, a.instruments,
                   f"days {a.window_start_day}-{a.window_end_day} after infusion {a.infusion}")
                  for a in protocol.assessments]
        for code, names, window in specs:
            windows.setdefault(code, window)
            merged = instruments.setdefault(code, [])
            merged += [n for n in names if n not in merged]
    ordered = sorted(windows, key=lambda c: event_numbers(c)[0])
    events = []
    for order, code in enumerate(ordered, start=1):
        visitnum, visit = event_numbers(code)
        events.append(Event(code, order, visitnum, visit, f"{visit.title()} ({windows[code]})",
                            tuple(instruments[code]), visitdy.get(code)))
    return events


# --- instruments -----------------------------------------------------------------------------


def form_oid(code: str) -> str:
    return f"F.{form_key(code)}"


def codelist_oid(code: str, item_id: str) -> str:
    return f"CL.{form_key(code)}.{item_id.upper()}"


def method_oid(code: str) -> str:
    return f"MT.{form_key(code)}"


YN_CODELIST = "CL.NY"


def redcap_field(code: str, testcd: str) -> str:
    return f"{code}_{testcd.lower()}"


def redcap_admin_field(code: str, suffix: str) -> str:
    return f"{code}_{suffix}"


def option_testcd(item: Item, index: int) -> str:
    testcd = f"{item.sdtm_testcd}{index}"
    if not TESTCD_RE.match(testcd):
        raise CatalogueError(f"option {index} of {item.id} makes QSTESTCD {testcd!r} (> 8)")
    return testcd


def qstest(testcd: str, text: str, *, exact: bool = False) -> str:
    """'<TESTCD>-<text>' cut to 40 characters at a word boundary (the CT naming style);
    `exact` texts (a definition's own `sdtm_test`) must fit whole."""
    full = " ".join(f"{testcd}-{text}".split()).rstrip("?:. ")
    if len(full) <= QSTEST_MAX:
        return full
    if exact:
        raise CatalogueError(f"QSTEST {full!r} is longer than {QSTEST_MAX} characters")
    cut = full[:QSTEST_MAX]
    if " " in cut[len(testcd):]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(",;:( ")


@dataclass(frozen=True)
class QsTest:
    """One SDTM test: an item, one option of a multi-choice item, or a score."""

    testcd: str
    test: str
    item: Item | None = None
    option: str | None = None
    score: ScoreSpec | None = None
    section: str | None = None


_QS_TESTS: dict[tuple[str, str], list[QsTest]] = {}


def qs_tests(definition: InstrumentDefinition) -> list[QsTest]:
    """The instrument's tests, in order (computed once per instrument version)."""
    key = (definition.code, definition.version)
    if key not in _QS_TESTS:
        _QS_TESTS[key] = _qs_tests(definition)
    return _QS_TESTS[key]


def _qs_tests(definition: InstrumentDefinition) -> list[QsTest]:
    sections = {s.id: s.title["en"].upper() for s in definition.sections}
    tests: list[QsTest] = []
    for item in definition.items:
        if item.type == MULTI:
            for index, option in enumerate(item.options, start=1):
                testcd = option_testcd(item, index)
                tests.append(QsTest(testcd, qstest(testcd, option.label["en"]), item,
                                    str(option.code), None, sections[item.section]))
        else:
            tests.append(QsTest(item.sdtm_testcd, qstest(item.sdtm_testcd, item.text["en"]),
                                item, None, None, sections[item.section]))
    for score in definition.scores:
        text = qstest(score.sdtm_testcd, score.sdtm_test or score.label["en"],
                      exact=score.sdtm_test is not None)
        tests.append(QsTest(score.sdtm_testcd, text, score=score))
    for test in tests:
        if not TESTCD_RE.match(test.testcd):
            raise CatalogueError(f"{definition.code}: QSTESTCD {test.testcd!r} is not SDTM-legal")
    return tests


def latest_definitions(registry: InstrumentRegistry, codes: Iterable[str]
                       ) -> list[InstrumentDefinition]:
    return [registry.get(code) for code in codes]


def instrument_order(events: Iterable[Event]) -> list[str]:
    order: list[str] = []
    for event in events:
        order += [code for code in event.instruments if code not in order]
    return order


def metadata_fingerprint(definitions: Iterable[InstrumentDefinition],
                         events: Iterable[Event]) -> str:
    """Changes when an instrument version or the event list changes: the MetaDataVersion key."""
    content = {"instruments": sorted(f"{d.code}:{d.version}" for d in definitions),
               "events": [(e.code, list(e.instruments)) for e in events]}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return digest[:10]


@dataclass(frozen=True)
class StudyCatalogue:
    """Everything the exports of one study need to know about its metadata."""

    study_code: str
    registry_id: str | None
    events: tuple[Event, ...]
    definitions: tuple[InstrumentDefinition, ...]
    site_codes: tuple[str, ...]
    infusion_count: int = 0  # the most infusions any protocol version plans

    @property
    def study_oid(self) -> str:
        return f"S.{self.study_code}"

    @property
    def mdv_oid(self) -> str:
        return f"MDV.{metadata_fingerprint(self.definitions, self.events)}"

    def definition(self, code: str) -> InstrumentDefinition:
        for d in self.definitions:
            if d.code == code:
                return d
        raise KeyError(code)

    def event(self, code: str) -> Event:
        for e in self.events:
            if e.code == code:
                return e
        visitnum, visit = event_numbers(code)
        return Event(code, 0, visitnum, visit, visit.title(), ())


@cache
def _cached(study_code: str, protocol_code: str, registry_id: str | None,
            site_codes: tuple[str, ...], instruments: InstrumentRegistry,
            protocols: ProtocolRegistry) -> StudyCatalogue:
    events = study_events(protocols, protocol_code)
    definitions = latest_definitions(instruments, instrument_order(events))
    for definition in definitions:
        qs_tests(definition)
    infusions = max((p.infusion_count for p in protocols.versions(protocol_code)), default=0)
    return StudyCatalogue(study_code, registry_id, tuple(events), tuple(definitions), site_codes,
                          infusions)


def study_catalogue(study_code: str, protocol_code: str, registry_id: str | None,
                    site_codes: Iterable[str], instruments: InstrumentRegistry,
                    protocols: ProtocolRegistry) -> StudyCatalogue:
    """The catalogue of a study following the protocol family `protocol_code`."""
    return _cached(study_code, protocol_code, registry_id, tuple(site_codes), instruments,
                   protocols)
