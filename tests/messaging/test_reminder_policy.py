"""Every reminder setting of the protocol file takes effect (issue 17, item 1).

Messaging reads the protocol's one ``ReminderPolicy`` as it is. Each case edits one line of
the packaged protocol file (a copy), loads it as the running protocol, enrols a participant
through the real services and reads what the outbox planned.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from pro_server.errors import InvalidInput
from pro_server.instruments.definitions import EXAMPLE_STUDIES_DIR
from pro_server.messaging.models import OutboxMessage
from pro_server.participants.models import Participant
from pro_server.participants.reminder_channels import Channel
from pro_server.protocol import definitions
from pro_server.schedule.models import Assessment
from pro_server.schedule.visits import schedule_visit
from pro_server.study_paths import STUDIES_PATH_VARIABLE
from tests.messaging.support import NEW_YORK, World

PHONE = "+13525550142"
V2 = "res001-dmpm-02.v2.yaml"
# As shipped: INF1_D7 (infusion 1 on 02-27 at 10:00) is open 03-04..03-08.
SHIPPED = [
    ("window_opened", "2026-03-04 09:00"), ("survey_reminder", "2026-03-05 10:00"),
    ("survey_reminder", "2026-03-06 10:00"), ("survey_reminder", "2026-03-07 10:00"),
    ("last_day", "2026-03-08 10:00"),
]


@pytest.fixture
def protocol_line(tmp_path, monkeypatch) -> Iterator[Callable[[str, str], None]]:
    """`protocol_line(old, new)` rewrites one line of the running protocol v2 file."""
    studies = tmp_path / "studies"
    shutil.copytree(EXAMPLE_STUDIES_DIR / "res001-dmpm-02", studies / "res001-dmpm-02")
    monkeypatch.setenv(STUDIES_PATH_VARIABLE, str(studies))
    folder = studies / "res001-dmpm-02" / "protocol"

    def edit(old: str, new: str) -> None:
        text = (folder / V2).read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        (folder / V2).write_text(text.replace(old, new), encoding="utf-8")
        definitions.default_registry.cache_clear()

    yield edit
    definitions.default_registry.cache_clear()


def _survey_texts(world: World, pid: int) -> list[tuple[str, str]]:
    """The SMS planned for the participant's INF1_D7 survey: (purpose, local due time)."""
    with world.session() as session:
        a = session.scalar(select(Assessment.id).where(
            Assessment.participant_id == pid, Assessment.code == "INF1_D7"))
    rows = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.channel == Channel.SMS,
                      OutboxMessage.target_kind == "assessment", OutboxMessage.target_id == a,
                      OutboxMessage.status == "pending")
    return [(r.purpose, f"{r.due_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M}") for r in rows]


def _visit_texts(world: World, pid: int) -> list[tuple[str, str]]:
    world.change(lambda ctx: schedule_visit(ctx, ctx.session.get(Participant, pid),
                                            starts_at_local=datetime(2026, 3, 20, 14, 0),
                                            mode="phone"))
    rows = world.rows(OutboxMessage.participant_id == pid, OutboxMessage.channel == Channel.SMS,
                      OutboxMessage.target_kind == "visit")
    return [(r.purpose, f"{r.due_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M}") for r in rows]


def _replace(planned: list[tuple[str, str]], old: tuple[str, str], new: tuple[str, str] | None
             ) -> list[tuple[str, str]]:
    return [new if p == old else p for p in planned if new is not None or p != old]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('last_day_reminder: {enabled: true, local_time: "10:00"}',
     'last_day_reminder: {enabled: true, local_time: "18:00"}',
     _replace(SHIPPED, ("last_day", "2026-03-08 10:00"), ("last_day", "2026-03-08 18:00"))),
    ('last_day_reminder: {enabled: true, local_time: "10:00"}',
     'last_day_reminder: {enabled: false, local_time: "10:00"}',
     SHIPPED[:4]),
    ('daily_reminder_local_time: "10:00"', 'daily_reminder_local_time: "11:30"',
     [SHIPPED[0], *((kind, at.replace("10:00", "11:30")) for kind, at in SHIPPED[1:4]),
      SHIPPED[4]]),
    ("max_daily_reminders: 3 ", "max_daily_reminders: 1 ", [SHIPPED[0], SHIPPED[1], SHIPPED[4]]),
    ("window_opened: true ", "window_opened: false ", SHIPPED[1:]),
    ('quiet_hours: {start: "09:00", end: "20:00"}', 'quiet_hours: {start: "09:45", end: "20:00"}',
     [("window_opened", "2026-03-04 09:45"), *SHIPPED[1:]]),
], ids=["last-day-time", "last-day-off", "daily-time", "max-daily", "window-opened-off",
        "quiet-hours"])
def test_each_survey_reminder_setting_of_the_protocol_takes_effect(
        world, protocol_line, old, new, expected):
    assert _survey_texts(world, world.enrol("POL-001", PHONE, reminder_time=None)) == SHIPPED
    protocol_line(old, new)
    assert _survey_texts(world, world.enrol("POL-002", "+13525550143", reminder_time=None)
                         ) == expected


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("offsets_minutes_before: [1440, 60]", "offsets_minutes_before: [1440, 60]",
     [("visit_reminder_24h", "2026-03-19 14:00"), ("visit_reminder_1h", "2026-03-20 13:00")]),
    ("offsets_minutes_before: [1440, 60]", "offsets_minutes_before: [60]",
     [("visit_reminder_1h", "2026-03-20 13:00")]),
    ("visit_reminders: {enabled: true,", "visit_reminders: {enabled: false,", []),
], ids=["shipped", "one-hour-only", "off"])
def test_each_visit_reminder_setting_of_the_protocol_takes_effect(
        world, protocol_line, old, new, expected):
    protocol_line(old, new)
    assert _visit_texts(world, world.enrol("POL-003", PHONE)) == expected


def test_the_opt_out_notice_follows_the_protocol_count(world, protocol_line, clock):
    protocol_line("opt_out_notice_every_n_messages: 5", "opt_out_notice_every_n_messages: 1")
    world.enrol("POL-004", PHONE, reminder_time=None)
    world.walk(datetime(2026, 3, 5, 16, 0, tzinfo=NEW_YORK), step=timedelta(hours=1))
    texts = [m.body for m in world.texts_to(PHONE)]
    assert len(texts) >= 2  # the window-opened notice and the first daily reminder
    assert all("Reply STOP to opt out" in text for text in texts)


def test_a_study_program_name_never_names_the_condition_product_or_arm():
    """The program name in every text is the study's; the protocol file has none."""
    from pro_server.studies.services import check_program_name

    assert check_program_name("Study Check-in") == "Study Check-in"
    for bad in ("ULSC Check-in", "Placebo study", "Dermatomyositis diary", "x"):
        with pytest.raises(InvalidInput, match="program_name"):
            check_program_name(bad)
