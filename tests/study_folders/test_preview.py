"""`pro study preview`: a made-up participant's windows and reminders, from the real planners."""

from __future__ import annotations

import re
from datetime import datetime, time

from pro_server.protocol.definitions import load_protocol_file
from tests.study_folders.conftest import EXAMPLE3, RES001, edit, run_study

WINDOW = re.compile(r"^  (\w+)\s+\w{3} (\S+ \S+) \w+ -> \w{3} (\S+ \S+) \w+")
MESSAGE = re.compile(r"^\s{15}\w{3} (\S+ \S+) (\w+)\s+(\w+)")


def _parse(output: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    windows, messages, code = {}, [], ""
    for line in output.splitlines():
        if match := WINDOW.match(line):
            code = match[1]
            windows[code] = (match[2], match[3])
        elif match := MESSAGE.match(line):
            messages.append((code, match[1], match[3]))
    return windows, messages


def test_preview_of_the_first_trial(capsys) -> None:
    result = run_study("preview", RES001, "--day0", "2027-01-10")
    print(result.output)
    assert result.exit_code == 0, result.output
    windows, messages = _parse(result.output)
    assert list(windows) == ["BASELINE", *(f"INF{n}_D{d}" for n in range(1, 7) for d in (7, 30))]
    assert windows["INF1_D7"] == ("2027-01-15 00:00", "2027-01-19 24:00")
    # Infusion 4 (Month 7) is planned inside INF3_D30's window: that window closes at it.
    assert windows["INF3_D30"] == ("2027-08-04 00:00", "2027-08-08 09:00")
    assert "[closes when infusion 4 is given]" in result.output
    assert "Total: 13 survey windows" in result.output
    # Every window is announced once; every message inside 09:00-20:00 local.
    assert sorted(c for c, _, purpose in messages if purpose == "window_opened") == sorted(windows)
    assert all(time(9) <= datetime.fromisoformat(at).time() < time(20) for _, at, _ in messages)


def test_preview_of_the_second_example_in_another_time_zone() -> None:
    result = run_study("preview", EXAMPLE3, "--day0", "2027-01-10", "--tz", "Europe/Madrid")
    print(result.output)
    assert result.exit_code == 0, result.output
    windows, messages = _parse(result.output)
    assert list(windows) == ["BASELINE", *(f"INF{n}_D{d}" for n in (1, 2, 3) for d in (14, 42))]
    # Day 14 window: days 12-16 after the infusion, 08:00 to 20:00 local (the file's times).
    assert windows["INF1_D14"] == ("2027-01-22 08:00", "2027-01-26 20:00")
    assert windows["INF2_D14"] == ("2027-03-23 08:00", "2027-03-27 20:00")
    assert "2027-03-23 08:00 CET" in result.output
    assert "2027-05-22 08:00 CEST" in result.output
    # At most 2 daily reminders and one last-day reminder per window (the file's policy).
    for code in windows:
        purposes = [purpose for c, _, purpose in messages if c == code]
        assert purposes.count("survey_reminder") <= 2
        assert purposes.count("last_day") <= 1
    assert "SMS reminders 24 h before each" in result.output


def test_preview_follows_the_protocol_file(copy_study) -> None:
    folder = copy_study(EXAMPLE3)
    protocol = folder / "protocol" / "example-3inf-14.v1.yaml"
    edit(protocol, "&day14 {start_day: 12, end_day: 16}", "&day14 {start_day: 13, end_day: 15}")
    assert load_protocol_file(protocol).assessment("INF1_D14").window_start_day == 13
    windows, _ = _parse(run_study("preview", folder, "--day0", "2027-01-10").output)
    assert windows["INF1_D14"] == ("2027-01-23 08:00", "2027-01-25 20:00")


def test_preview_refuses_an_unknown_zone_and_bad_dates() -> None:
    result = run_study("preview", EXAMPLE3, "--day0", "2027-01-10", "--tz", "Mars/Olympus")
    assert result.exit_code == 1
    assert "Mars/Olympus" in result.output
    result = run_study("preview", EXAMPLE3, "--day0", "10/01/2027")
    assert result.exit_code == 2
    assert "is not a date YYYY-MM-DD" in result.output
