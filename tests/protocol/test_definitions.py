"""Protocol files: the numbers they own, the schema and the cross-field checks."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from jsonschema import Draft202012Validator

from pro_server.instruments.definitions import EXAMPLE_STUDIES_DIR
from pro_server.protocol.definitions import (
    SCHEMA_PATH,
    ProtocolDefinitionError,
    ProtocolRegistry,
    UnknownProtocolError,
    default_registry,
    load_protocols,
)

STUDY = "RES001-DMPM-02"
PROTOCOL_DIR = EXAMPLE_STUDIES_DIR / "res001-dmpm-02" / "protocol"
PAST_WEEK = ("pain_nrs", "ptga_vas", "haq_di", "promis_gh")
FOUR_WEEK = (*PAST_WEEK, "rand36")


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text("utf-8")))


def test_registry_holds_both_versions_and_v2_is_current(registry: ProtocolRegistry) -> None:
    assert [p.version for p in registry.versions(STUDY)] == [1, 2]
    assert registry.current(STUDY).version == 2
    assert registry.get(STUDY, 2).supersedes == 1
    assert registry.study_codes() == (STUDY,)
    assert len(registry) == 2
    assert default_registry().current(STUDY) == registry.current(STUDY)


@pytest.mark.parametrize(("study", "version"), [(STUDY, 3), ("OTHER-01", 1)])
def test_unknown_protocol_is_a_lookup_error(
    registry: ProtocolRegistry, study: str, version: int
) -> None:
    with pytest.raises(UnknownProtocolError):
        registry.get(study, version)


def test_unknown_study_has_no_current_version(registry: ProtocolRegistry) -> None:
    with pytest.raises(UnknownProtocolError, match="OTHER"):
        registry.current("OTHER")


def test_v2_infusions_follow_the_registration(v2) -> None:
    assert [(i.number, i.label, i.month, i.planned_day) for i in v2.infusions] == [
        (1, "Day 0", 0, 0),
        (2, "Month 3", 3, 90),
        (3, "Month 6", 6, 180),
        (4, "Month 7", 7, 210),
        (5, "Month 10", 10, 300),
        (6, "Month 13", 13, 390),
    ]
    assert v2.days_per_month == 30


def test_v1_infusions_follow_the_abstract(v1) -> None:
    assert [(i.number, i.label, i.planned_day) for i in v1.infusions] == [
        (1, "Day 0", 0),
        (2, "Month 4", 120),
        (3, "Month 8", 240),
        (4, "Month 12", 360),
    ]
    assert not v1.current


@pytest.mark.parametrize(("version", "infusions"), [(1, 4), (2, 6)])
def test_assessments_are_baseline_then_day7_and_day30_per_infusion(
    registry: ProtocolRegistry, version: int, infusions: int
) -> None:
    protocol = registry.get(STUDY, version)
    expected_codes = ["BASELINE"]
    for n in range(1, infusions + 1):
        expected_codes += [f"INF{n}_D7", f"INF{n}_D30"]
    assert list(protocol.assessment_codes) == expected_codes
    assert protocol.baseline.instruments == FOUR_WEEK
    for spec in protocol.assessments:
        if spec.day == 7:
            assert (spec.window_start_day, spec.window_end_day) == (5, 9)
            assert spec.instruments == PAST_WEEK
        else:
            assert spec.day == 30
            assert (spec.window_start_day, spec.window_end_day) == (26, 34)
            assert spec.instruments == FOUR_WEEK
        assert spec.anchor == f"infusion:{spec.code[3]}"


@pytest.mark.parametrize("version", [1, 2])
def test_windows_baseline_visits_and_reminders(registry: ProtocolRegistry, version: int) -> None:
    protocol = registry.get(STUDY, version)
    assert protocol.window_times.opens_after_midnight == timedelta(0)
    assert protocol.window_times.closes_after_midnight == timedelta(hours=24)
    assert protocol.close_before_next_infusion
    assert protocol.baseline.cap_days_after_planned_day0 == 14
    assert protocol.baseline.cap_days_after_enrolment == 42
    assert protocol.virtual_visits.count == 8
    assert protocol.virtual_visits.modes == ("phone", "video")
    policy = protocol.reminder_policy
    assert not hasattr(policy, "program_name")  # the texts use the study's program name
    assert policy.window_opened_message
    assert policy.daily_reminder_local_time == time(10, 0)
    assert policy.max_daily_reminders == 3
    assert policy.last_day_reminder
    assert policy.last_day_reminder_local_time == time(10, 0)
    assert (policy.send_from, policy.send_until) == (time(9, 0), time(20, 0))
    assert policy.visit_reminders
    assert policy.visit_reminder_offsets == (timedelta(hours=24), timedelta(hours=1))
    assert policy.opt_out_notice_every_n_messages == 5


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (time(0, 0), True),
        (time(8, 59), True),
        (time(9, 0), False),
        (time(10, 0), False),
        (time(19, 59), False),
        (time(20, 0), True),
        (time(23, 30), True),
    ],
)
def test_quiet_outside_the_sending_hours(v2, at: time, quiet: bool) -> None:
    assert v2.reminder_policy.is_quiet(at) is quiet


def test_assessment_and_infusion_lookup(v2) -> None:
    assert v2.assessment("INF4_D30").infusion == 4
    assert v2.infusion(6).planned_day == 390
    with pytest.raises(KeyError, match="INF7_D7"):
        v2.assessment("INF7_D7")
    with pytest.raises(ValueError, match=r"infusions 1\.\.6, not 7"):
        v2.infusion(7)


def _set(path: str, value):
    """A mutation that sets document[path...] = value (path items split by '.')."""

    def mutate(document):
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("reminder_policy.daily_reminder_local_time", 600), "daily_reminder_local_time"),
        (_set("window_times.opens_at", "24:00"), "opens_at"),
        (_set("surprise", 1), "Additional properties"),
        (_set("version", "2"), "version"),
        (_set("virtual_visits.modes", ["phone", "fax"]), "fax"),
        (_set("reminder_policy.program_name", "Study Check-in"), "Additional properties"),
        (_set("reminder_policy.visit_reminders.offsets_minutes_before", [120]),
         "offsets_minutes_before"),
        (_set("reminder_policy.max_daily_reminders", -1), "max_daily_reminders"),
        (_set("assessments.0.window.start_day", -1), "start_day"),
        (_set("infusions.1.planned_day", 91), "Month 3 is Day 90"),
        (_set("infusions.1.number", 3), "numbered 1..N"),
        (_set("infusions.0.planned_day", 1), "infusion 1 defines Day 0"),
        (_set("infusions.2.planned_day", 90), "infusion 3 must be planned after infusion 2"),
        (_set("assessments.0.infusion", 7), "only infusions 1..6"),
        (_set("assessments.0.day", 10), "must contain day 10"),
        (_set("assessments.0.instrument_set", "nope"), "unknown instrument set 'nope'"),
        (_set("assessments.1.code", "INF1_D7"), "must be unique"),
        (_set("assessments.2.infusion", 1), "calendar order"),
        # Every Day 7 window (one YAML anchor) runs to day 28, into Day 30's from day 26.
        (_set("assessments.0.window.end_day", 28),
         r"INF1_D30: its window \(days 26-34 after infusion 1\) overlaps the window of INF1_D7"),
        (_set("assessments.1.window", {"start_day": 2, "end_day": 4}),
         r"INF1_D30: its window \(days 2-4 after infusion 1\) comes before the window of INF1_D7"),
        (_set("reminder_policy.daily_reminder_local_time", "21:00"), "outside the sending"),
        (_set("reminder_policy.last_day_reminder.local_time", "08:59"), "outside the sending"),
        (_set("reminder_policy.quiet_hours.end", "09:00"), "must be before end"),
        (_set("reminder_policy.window_opened", "yes"), "window_opened"),
        (_set("window_times.closes_at", "00:00"), "closes_at must be later"),
        (_set("supersedes", 2), "cannot supersede"),
    ],
)
def test_invalid_documents_are_rejected_with_a_pointed_message(
    v2_document, build_protocol, mutate, message: str
) -> None:
    mutate(v2_document)
    with pytest.raises(ProtocolDefinitionError, match=message):
        build_protocol(v2_document)


def test_the_unmodified_document_builds(v2_document, build_protocol, v2) -> None:
    assert build_protocol(v2_document) == v2


def test_configurable_window_times_parse(v2_document, build_protocol) -> None:
    v2_document["window_times"] = {"opens_at": "07:30", "closes_at": "21:00"}
    times = build_protocol(v2_document).window_times
    assert times.opens_after_midnight == timedelta(hours=7, minutes=30)
    assert times.closes_after_midnight == timedelta(hours=21)


def test_unquoted_yaml_time_is_caught_by_the_schema(write_protocol) -> None:
    text = (PROTOCOL_DIR / "res001-dmpm-02.v2.yaml").read_text("utf-8")
    directory = write_protocol(
        "res001-dmpm-02.v2.yaml",
        text.replace('daily_reminder_local_time: "10:00"', "daily_reminder_local_time: 10:00"),
    )
    with pytest.raises(ProtocolDefinitionError, match="600 is not of type 'string'"):
        load_protocols(directory)


def test_file_name_must_match_study_and_version(write_protocol, v2_document) -> None:
    directory = write_protocol("res001-dmpm-02.v3.yaml", v2_document)
    with pytest.raises(ProtocolDefinitionError, match=r"must be named res001-dmpm-02\.v2\.yaml"):
        load_protocols(directory)


def test_a_study_needs_exactly_one_current_version(write_protocol, v2_document) -> None:
    write_protocol("res001-dmpm-02.v2.yaml", v2_document)
    v2_document.update(version=3, supersedes=2)
    directory = write_protocol("res001-dmpm-02.v3.yaml", v2_document)
    with pytest.raises(ProtocolDefinitionError, match="exactly one current version, found v2, v3"):
        load_protocols(directory)


def test_superseded_version_must_be_loaded(write_protocol, v2_document) -> None:
    directory = write_protocol("res001-dmpm-02.v2.yaml", v2_document)
    with pytest.raises(ProtocolDefinitionError, match="supersedes v1, which is not loaded"):
        load_protocols(directory)


def test_broken_yaml_and_empty_directory(write_protocol, tmp_path) -> None:
    with pytest.raises(ProtocolDefinitionError, match="no protocol files"):
        load_protocols(tmp_path)
    directory = write_protocol("res001-dmpm-02.v2.yaml", "study_code: [unclosed\n")
    with pytest.raises(ProtocolDefinitionError, match="not valid YAML"):
        load_protocols(directory)
