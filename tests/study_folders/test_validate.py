"""`pro study validate`: every problem of a study folder named with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pro_server.study_paths import protocol_files, studies_path, study_dirs
from tests.study_folders.conftest import EXAMPLE3, EXAMPLES, RES001, edit, run_study

V2 = Path("protocol/res001-dmpm-02.v2.yaml")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_shipped_examples_are_valid(example: Path) -> None:
    result = run_study("validate", example)
    print(result.output)
    assert result.exit_code == 0
    assert "is valid" in result.output


# (file in the folder, text replaced, replacement, what the message must say)
BROKEN = {
    "unknown instrument in study.yaml": (
        "study.yaml", "rand36]", "rand36, koos]", "unknown instrument 'koos'"),
    "unknown instrument in a protocol": (
        V2, "instruments: [pain_nrs, ptga_vas, haq_di, promis_gh, rand36]",
        "instruments: [pain_nrs, ptga_vas, haq_di, promis_gh, rand12]",
        "unknown instrument 'rand12'"),
    "overlapping windows": (
        V2, "window: &day7 {start_day: 5, end_day: 9}",
        "window: &day7 {start_day: 5, end_day: 28}", None),
    "Day 30 window before Day 7": (
        V2, "window: &day30 {start_day: 26, end_day: 34}",
        "window: &day30 {start_day: 2, end_day: 4}",
        "INF1_D30: its window (days 2-4 after infusion 1) comes before the window of INF1_D7"),
    "unknown time zone": (
        "study.yaml", "timezone: America/New_York\n", "timezone: America/New_Yrok\n",
        "unknown time zone 'America/New_Yrok'"),
    "infusion count mismatch": (
        V2, '  - {number: 6, label: "Month 13", month: 13, planned_day: 390}\n', "",
        "INF6_D7: anchored to infusion 6, but only infusions 1..5 are defined"),
}


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.replace(" ", "-"))
def test_a_broken_folder_is_refused_naming_file_and_line(case: str, copy_study) -> None:
    name, old, new, says = BROKEN[case]
    folder = copy_study(RES001)
    file = folder / name
    line = edit(file, old, new)
    if case == "overlapping windows":  # reported on the window that runs into the other
        line = _line_of(file, "code: INF1_D30")
        says = ("INF1_D30: its window (days 26-34 after infusion 1) overlaps the window of"
                " INF1_D7 (days 5-28 after infusion 1)")
    if case == "infusion count mismatch":
        line = _line_of(file, "code: INF6_D7")

    result = run_study("validate", folder)

    print(f"$ pro study validate {folder.name}  # {case}\n{result.output}")
    assert result.exit_code == 1
    problems = [p for p in result.output.splitlines() if p.startswith(str(folder))]
    assert any(p.startswith(f"{file}:{line}: ") and says in p for p in problems), problems


def _line_of(file: Path, text: str) -> int:
    lines = file.read_text("utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_every_problem_is_listed_not_only_the_first(copy_study) -> None:
    folder = copy_study(EXAMPLE3)
    edit(folder / "study.yaml", "timezone: America/Chicago\n", "timezone: Mars/Olympus\n")
    edit(folder / "study.yaml", "[pain_nrs, promis_gh]", "[pain_nrs, promis_gh, koos]")
    result = run_study("validate", folder)
    assert result.exit_code == 1
    assert re.search(r"study\.yaml:\d+: timezone: unknown time zone 'Mars/Olympus'", result.output)
    assert re.search(r"study\.yaml:\d+: instruments: unknown instrument 'koos'", result.output)


def test_a_schema_error_names_its_line(copy_study) -> None:
    folder = copy_study(EXAMPLE3)
    line = edit(folder / V2.with_name("example-3inf-14.v1.yaml"),
                'daily_reminder_local_time: "12:00"', "daily_reminder_local_time: 12:00")
    result = run_study("validate", folder)
    assert result.exit_code == 1
    assert f"example-3inf-14.v1.yaml:{line}: reminder_policy/daily_reminder_local_time:" \
        in result.output


def test_a_visit_reminder_the_planner_never_sends_is_refused(copy_study) -> None:
    folder = copy_study(EXAMPLE3)
    file = folder / "protocol" / "example-3inf-14.v1.yaml"
    line = edit(file, "offsets_minutes_before: [1440]", "offsets_minutes_before: [1440, 30]")
    result = run_study("validate", folder)
    assert result.exit_code == 1
    assert f"{file}:{line}: " in result.output
    assert "30 is not one of [1440, 60]" in result.output


def test_a_study_folders_own_instrument_is_checked_like_questionnaires(copy_study) -> None:
    folder = copy_study(EXAMPLE3)
    (folder / "instruments").mkdir()
    own = folder / "instruments" / "site_pain-1.0.yaml"
    own.write_text("code: site_pain\nversion: '1.0'\n", "utf-8")
    result = run_study("validate", folder)
    assert result.exit_code == 1
    assert f"{own}: (root): 'title' is a required property" in result.output


def test_studies_path_lists_folders_and_folders_of_studies(tmp_path: Path) -> None:
    environ = {"PRO_STUDIES_PATH": f"{EXAMPLE3}:{RES001.parent}"}
    assert studies_path(environ) == (EXAMPLE3, RES001.parent)
    assert studies_path({}) == (RES001.parent,)  # default: the shipped examples
    assert study_dirs((EXAMPLE3, RES001.parent)) == [EXAMPLE3, RES001]  # once each
    assert [f.name for f in protocol_files((EXAMPLE3,))] == ["example-3inf-14.v1.yaml"]
