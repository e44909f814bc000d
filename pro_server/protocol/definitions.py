"""Study protocol versions as data: YAML files, JSON-schema checked, loaded into frozen dataclasses.

One file per protocol version, named ``<study code, lower case>.v<version>.yaml``, lives in
its study's folder (``pro_server.study_folders.folders``; the schema stays in ``definitions/``).
The JSON schema checks the shape; the cross-field rules that a schema cannot express
(infusion numbering, anchors, window order and overlap, reminder times inside sending hours)
are checked here. Every error carries the document path of what it is about, so that a
study designer is told the file and line (``pro study validate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from pro_server.resources import protocol_definitions_dir
from pro_server.study_paths import protocol_files

DEFINITIONS_DIR = protocol_definitions_dir()
SCHEMA_PATH = DEFINITIONS_DIR / "protocol.schema.json"
Where = tuple[str | int, ...]  # a path into a protocol document, e.g. ("assessments", 3)


class ProtocolDefinitionError(ValueError):
    """A protocol file is malformed or inconsistent.

    ``problems`` lists (document path, message) pairs: every schema error, or the first
    cross-field error found.
    """

    def __init__(
        self, message: str, *, at: Where = (), problems: Iterable[tuple[Where, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems is not None else [(at, message)]


class UnknownProtocolError(LookupError):
    """No protocol version is registered under the requested study code and version."""


@dataclass(frozen=True)
class InfusionSpec:
    number: int
    label: str
    month: int | None
    planned_day: int


@dataclass(frozen=True)
class WindowTimes:
    """Local wall-clock times at which windows open (first day) and close (last day).

    Both are offsets from local midnight; ``closes_after_midnight == 24 h`` is the end of day.
    """

    opens_after_midnight: timedelta
    closes_after_midnight: timedelta


@dataclass(frozen=True)
class InstrumentSet:
    name: str
    description: str
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class BaselineSpec:
    code: str
    instrument_set: str
    instruments: tuple[str, ...]
    cap_days_after_planned_day0: int
    cap_days_after_enrolment: int


@dataclass(frozen=True)
class AssessmentSpec:
    code: str
    infusion: int
    day: int
    window_start_day: int
    window_end_day: int
    instrument_set: str
    instruments: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return f"infusion:{self.infusion}"


@dataclass(frozen=True)
class VirtualVisitSpec:
    count: int
    modes: tuple[str, ...]


@dataclass(frozen=True)
class ReminderPolicy:
    """What the messaging part may send, and when (participant-local wall-clock times).

    The one reminder policy type: messaging plans from it as it is (no adapter). The program
    name in the texts is the study's (``Study.program_name``), not a protocol setting.
    """

    window_opened_message: bool
    daily_reminder_local_time: time
    max_daily_reminders: int
    last_day_reminder: bool
    last_day_reminder_local_time: time
    send_from: time
    send_until: time
    visit_reminders: bool
    visit_reminder_offsets: tuple[timedelta, ...]
    opt_out_notice_every_n_messages: int

    def is_quiet(self, local_time: time) -> bool:
        """True outside the sending hours [send_from, send_until) of the file's ``quiet_hours``."""
        return not self.send_from <= local_time.replace(tzinfo=None) < self.send_until


@dataclass(frozen=True)
class ProtocolDefinition:
    study_code: str
    version: int
    current: bool
    supersedes: int | None
    title: str
    source: str
    days_per_month: int
    planned_tolerance_days: int
    infusions: tuple[InfusionSpec, ...]
    window_times: WindowTimes
    close_before_next_infusion: bool
    instrument_sets: tuple[InstrumentSet, ...]
    baseline: BaselineSpec
    assessments: tuple[AssessmentSpec, ...]
    virtual_visits: VirtualVisitSpec
    reminder_policy: ReminderPolicy

    @property
    def key(self) -> tuple[str, int]:
        return (self.study_code, self.version)

    @property
    def infusion_count(self) -> int:
        return len(self.infusions)

    @property
    def assessment_codes(self) -> tuple[str, ...]:
        """Every assessment code in calendar order, baseline first."""
        return (self.baseline.code, *(a.code for a in self.assessments))

    def infusion(self, number: int) -> InfusionSpec:
        if not 1 <= number <= len(self.infusions):
            raise ValueError(
                f"{self.study_code} v{self.version} defines infusions 1..{len(self.infusions)},"
                f" not {number}"
            )
        return self.infusions[number - 1]

    def assessment(self, code: str) -> AssessmentSpec:
        for spec in self.assessments:
            if spec.code == code:
                return spec
        raise KeyError(f"{self.study_code} v{self.version} has no assessment {code!r}")


class ProtocolRegistry:
    """All loaded protocol versions, looked up by study code and version."""

    def __init__(self, protocols: Iterable[ProtocolDefinition]) -> None:
        by_key: dict[tuple[str, int], ProtocolDefinition] = {}
        for protocol in protocols:
            if protocol.key in by_key:
                raise ProtocolDefinitionError(
                    f"{protocol.study_code} v{protocol.version} is defined twice"
                )
            by_key[protocol.key] = protocol
        self._by_key = dict(sorted(by_key.items()))
        self._current: dict[str, ProtocolDefinition] = {}
        for study_code in {study for study, _ in by_key}:
            current = [p for p in self.versions(study_code) if p.current]
            if len(current) != 1:
                found = ", ".join(f"v{p.version}" for p in current) or "none"
                raise ProtocolDefinitionError(
                    f"{study_code} needs exactly one current version, found {found}"
                )
            self._current[study_code] = current[0]
        for protocol in by_key.values():
            if protocol.supersedes is not None and (
                (protocol.study_code, protocol.supersedes) not in by_key
            ):
                raise ProtocolDefinitionError(
                    f"{protocol.study_code} v{protocol.version} supersedes"
                    f" v{protocol.supersedes}, which is not loaded"
                )

    def get(self, study_code: str, version: int) -> ProtocolDefinition:
        try:
            return self._by_key[(study_code, version)]
        except KeyError:
            raise UnknownProtocolError(f"no protocol {study_code} v{version}") from None

    def current(self, study_code: str) -> ProtocolDefinition:
        try:
            return self._current[study_code]
        except KeyError:
            raise UnknownProtocolError(f"no protocol for study {study_code}") from None

    def versions(self, study_code: str) -> tuple[ProtocolDefinition, ...]:
        """All versions of one study, oldest first."""
        return tuple(p for (study, _), p in self._by_key.items() if study == study_code)

    def study_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self._current))

    def __iter__(self) -> Iterator[ProtocolDefinition]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load_protocols(path: Path | str | None = None) -> ProtocolRegistry:
    """Load every ``*.yaml`` protocol file in ``path`` (default: every study on
    ``PRO_STUDIES_PATH``, the protocol versions each ``study.yaml`` lists)."""
    if path is None:
        files = protocol_files()
        directory: Path | str = "PRO_STUDIES_PATH"
    else:
        directory = Path(path)
        files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ProtocolDefinitionError(f"no protocol files (*.yaml) in {directory}")
    return ProtocolRegistry(load_protocol_file(file) for file in files)


@cache
def default_registry() -> ProtocolRegistry:
    """The protocols of the studies on ``PRO_STUDIES_PATH``, loaded once per process."""
    return load_protocols()


def load_protocol_file(path: Path | str) -> ProtocolDefinition:
    """Load and check one protocol file; its name must match its study code and version."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProtocolDefinitionError(f"{path.name}: not valid YAML: {exc}") from exc
    protocol = parse_protocol(data, source_name=path.name)
    expected = f"{protocol.study_code.lower()}.v{protocol.version}.yaml"
    if path.name != expected:
        raise ProtocolDefinitionError(f"{path.name}: must be named {expected}", at=("version",))
    return protocol


def parse_protocol(data: Any, *, source_name: str = "<protocol>") -> ProtocolDefinition:
    """Check a decoded protocol document against the schema and cross-field rules."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        details = "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors
        )
        raise ProtocolDefinitionError(
            f"{source_name}: {details}",
            problems=[(tuple(e.absolute_path), e.message) for e in errors],
        )
    try:
        return _build(data)
    except ProtocolDefinitionError as exc:
        raise ProtocolDefinitionError(f"{source_name}: {exc}", problems=exc.problems) from None


def _build(data: Mapping[str, Any]) -> ProtocolDefinition:
    days_per_month = data["days_per_month"]
    infusions = tuple(
        InfusionSpec(i["number"], i["label"], i.get("month"), i["planned_day"])
        for i in data["infusions"]
    )
    _check_infusions(infusions, days_per_month)
    data_assessments = data["assessments"]

    instrument_sets = tuple(
        InstrumentSet(s["name"], s["description"], tuple(s["instruments"]))
        for s in data["instrument_sets"]
    )
    sets = {s.name: s.instruments for s in instrument_sets}
    if len(sets) != len(instrument_sets):
        raise ProtocolDefinitionError(
            "instrument set names must be unique", at=("instrument_sets",)
        )

    def instruments_of(name: str, where: str, at: Where) -> tuple[str, ...]:
        if name not in sets:
            raise ProtocolDefinitionError(f"{where}: unknown instrument set {name!r}", at=at)
        return sets[name]

    raw_baseline = data["baseline"]
    baseline = BaselineSpec(
        code=raw_baseline["code"],
        instrument_set=raw_baseline["instrument_set"],
        instruments=instruments_of(
            raw_baseline["instrument_set"], "baseline", ("baseline", "instrument_set")
        ),
        cap_days_after_planned_day0=raw_baseline["cap_days_after_planned_day0"],
        cap_days_after_enrolment=raw_baseline["cap_days_after_enrolment"],
    )
    assessments = tuple(
        AssessmentSpec(
            code=a["code"],
            infusion=a["infusion"],
            day=a["day"],
            window_start_day=a["window"]["start_day"],
            window_end_day=a["window"]["end_day"],
            instrument_set=a["instrument_set"],
            instruments=instruments_of(a["instrument_set"], a["code"], ("assessments", n)),
        )
        for n, a in enumerate(data_assessments)
    )
    _check_assessments(baseline, assessments, infusions, data["close_before_next_infusion"])

    raw_times = data["window_times"]
    window_times = WindowTimes(_clock(raw_times["opens_at"]), _clock(raw_times["closes_at"]))
    if window_times.opens_after_midnight >= window_times.closes_after_midnight:
        raise ProtocolDefinitionError(
            "window_times: closes_at must be later in the day than opens_at,"
            " so that a one-day window is not empty",
            at=("window_times",),
        )

    version = data["version"]
    supersedes = data.get("supersedes")
    if supersedes is not None and supersedes >= version:
        raise ProtocolDefinitionError(
            f"version {version} cannot supersede version {supersedes}", at=("supersedes",)
        )
    return ProtocolDefinition(
        study_code=data["study_code"],
        version=version,
        current=data["current"],
        supersedes=supersedes,
        title=" ".join(data["title"].split()),
        source=" ".join(data["source"].split()),
        days_per_month=days_per_month,
        planned_tolerance_days=data["planned_tolerance_days"],
        infusions=infusions,
        window_times=window_times,
        close_before_next_infusion=data["close_before_next_infusion"],
        instrument_sets=instrument_sets,
        baseline=baseline,
        assessments=assessments,
        virtual_visits=VirtualVisitSpec(
            data["virtual_visits"]["count"], tuple(data["virtual_visits"]["modes"])
        ),
        reminder_policy=_reminder_policy(data["reminder_policy"]),
    )


def _check_infusions(infusions: tuple[InfusionSpec, ...], days_per_month: int) -> None:
    numbers = [i.number for i in infusions]
    if numbers != list(range(1, len(infusions) + 1)):
        raise ProtocolDefinitionError(
            f"infusions must be numbered 1..N in order, got {numbers}", at=("infusions",)
        )
    if infusions[0].planned_day != 0:
        raise ProtocolDefinitionError(
            "infusion 1 defines Day 0: its planned_day must be 0", at=("infusions", 0)
        )
    for n, (earlier, later) in enumerate(pairwise(infusions), start=1):
        if later.planned_day <= earlier.planned_day:
            raise ProtocolDefinitionError(
                f"infusion {later.number} must be planned after infusion {earlier.number}",
                at=("infusions", n),
            )
    for n, infusion in enumerate(infusions):
        if infusion.month is not None and infusion.planned_day != infusion.month * days_per_month:
            raise ProtocolDefinitionError(
                f"infusion {infusion.number}: Month {infusion.month} is Day"
                f" {infusion.month * days_per_month} (days_per_month {days_per_month}),"
                f" not {infusion.planned_day}",
                at=("infusions", n),
            )


def _check_assessments(
    baseline: BaselineSpec,
    assessments: tuple[AssessmentSpec, ...],
    infusions: tuple[InfusionSpec, ...],
    close_before_next_infusion: bool,
) -> None:
    codes = [baseline.code, *(a.code for a in assessments)]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ProtocolDefinitionError(
            f"assessment codes must be unique: {duplicates}", at=("assessments",)
        )
    infusion_count = len(infusions)
    previous = (0, -1)
    earlier: tuple[AssessmentSpec, int, int] | None = None
    for n, spec in enumerate(assessments):
        at: Where = ("assessments", n)
        if not 1 <= spec.infusion <= infusion_count:
            raise ProtocolDefinitionError(
                f"{spec.code}: anchored to infusion {spec.infusion}, but only"
                f" infusions 1..{infusion_count} are defined",
                at=at,
            )
        start, end = _planned_window(spec, infusions, close_before_next_infusion)
        if earlier is not None:
            _check_after(spec, start, *earlier, at=at)
        earlier = (spec, start, end)
        if not spec.window_start_day <= spec.day <= spec.window_end_day:
            raise ProtocolDefinitionError(
                f"{spec.code}: window days {spec.window_start_day}..{spec.window_end_day}"
                f" must contain day {spec.day}",
                at=at,
            )
        if (spec.infusion, spec.day) < previous:
            raise ProtocolDefinitionError(
                f"{spec.code}: assessments must be listed in calendar order"
                " (by infusion, then day)",
                at=at,
            )
        previous = (spec.infusion, spec.day)


def _planned_window(
    spec: AssessmentSpec, infusions: tuple[InfusionSpec, ...], close_before_next_infusion: bool
) -> tuple[int, int]:
    """[first day, end day) of the window counted from Day 0, infusions given as planned.

    With ``close_before_next_infusion`` a window ends on the next infusion's planned day.
    """
    day0 = infusions[spec.infusion - 1].planned_day
    end = day0 + spec.window_end_day + 1
    if close_before_next_infusion and spec.infusion < len(infusions):
        end = min(end, infusions[spec.infusion].planned_day)
    return day0 + spec.window_start_day, end


def _check_after(
    spec: AssessmentSpec, start: int, earlier: AssessmentSpec, earlier_start: int, earlier_end: int,
    *, at: Where,
) -> None:
    """The window of ``spec`` must start after the window listed before it has ended."""

    def days(a: AssessmentSpec) -> str:
        return f"days {a.window_start_day}-{a.window_end_day} after infusion {a.infusion}"

    if start < earlier_start:
        raise ProtocolDefinitionError(
            f"{spec.code}: its window ({days(spec)}) comes before the window of"
            f" {earlier.code} ({days(earlier)}) listed above it; list assessments in calendar"
            " order and check their window days",
            at=at,
        )
    if start < earlier_end:
        raise ProtocolDefinitionError(
            f"{spec.code}: its window ({days(spec)}) overlaps the window of {earlier.code}"
            f" ({days(earlier)}) with infusions given as planned; a participant would have"
            " two surveys open at once",
            at=at,
        )


def _reminder_policy(raw: Mapping[str, Any]) -> ReminderPolicy:
    policy = ReminderPolicy(
        window_opened_message=raw["window_opened"],
        daily_reminder_local_time=_time_of_day(raw["daily_reminder_local_time"]),
        max_daily_reminders=raw["max_daily_reminders"],
        last_day_reminder=raw["last_day_reminder"]["enabled"],
        last_day_reminder_local_time=_time_of_day(raw["last_day_reminder"]["local_time"]),
        send_from=_time_of_day(raw["quiet_hours"]["start"]),
        send_until=_time_of_day(raw["quiet_hours"]["end"]),
        visit_reminders=raw["visit_reminders"]["enabled"],
        visit_reminder_offsets=tuple(
            timedelta(minutes=m)
            for m in sorted(raw["visit_reminders"]["offsets_minutes_before"], reverse=True)
        ),
        opt_out_notice_every_n_messages=raw["opt_out_notice_every_n_messages"],
    )
    if policy.send_from >= policy.send_until:
        raise ProtocolDefinitionError(
            "reminder_policy: quiet_hours start (first sending time) must be before end",
            at=("reminder_policy", "quiet_hours"),
        )
    for name, at in (
        ("daily_reminder_local_time", policy.daily_reminder_local_time),
        ("last_day_reminder.local_time", policy.last_day_reminder_local_time),
    ):
        if policy.is_quiet(at):
            raise ProtocolDefinitionError(
                f"reminder_policy: {name} {at:%H:%M} is outside the sending hours"
                f" {policy.send_from:%H:%M}-{policy.send_until:%H:%M}",
                at=("reminder_policy", name.split(".")[0]),
            )
    return policy


def _clock(text: str) -> timedelta:
    """'HH:MM' (or '24:00') as an offset from local midnight; the schema checked the format."""
    hours, minutes = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _time_of_day(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
