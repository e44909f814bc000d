"""`pro study apply`: create a study from its folder, amend it, never change collected data."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pro_server import create_app
from pro_server.config import ConfigError
from pro_server.instruments import default_registry as instruments
from pro_server.instruments.examples import example_answers
from pro_server.responses.services import submit
from pro_server.schedule.infusions import record_infusion
from pro_server.schedule.models import Assessment
from pro_server.staff.models import Role
from pro_server.staff.services import create_staff_user
from pro_server.studies.models import Study
from tests.factories import enrol_participant
from tests.study_folders.conftest import EXAMPLES, RES001, edit, reload_registries


def apply(app, folder: Path, reason: str, *signer: str, password: str = ""):  # type: ignore[no-untyped-def]
    signed = ["--signer", *signer] if signer else []
    result = app.test_cli_runner().invoke(
        args=["pro", "study", "apply", str(folder), "--reason", reason, *signed],
        input=f"{password}\n" if signer else None)
    print(f"$ pro study apply {folder.name} --reason {reason!r}\n{result.output}")
    return result


def audit(app, sql: str = "SELECT action, reason FROM audit_event ORDER BY id"):  # type: ignore[no-untyped-def]
    with app.extensions["pro"]["engine"].connect() as conn:
        return conn.execute(text(sql)).all()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_apply_creates_the_study_then_changes_nothing(app, example: Path) -> None:
    first = apply(app, example, "Go-live approved by the steering committee")
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    events = audit(app)
    assert ("study.create", None) in events
    assert events[-1] == ("study.apply", "Go-live approved by the steering committee")

    again = apply(app, example, "Applied twice by mistake")
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert audit(app) == events  # nothing written

    with app.extensions["pro"]["session_factory"]() as session:
        study = session.scalar(select(Study))
        assert study.code == example.name.upper()
        assert [s.code for s in study.sites] == (["GNV", "MIA"] if example == RES001 else ["CHI"])


def test_a_new_protocol_version_is_an_amendment_and_completed_data_keeps_its_version(
        app, settings, clock, ctx_factory, copy_study, studies_path) -> None:
    folder = copy_study(RES001)
    study_yaml, v1 = folder / "study.yaml", folder / "protocol" / "res001-dmpm-02.v1.yaml"
    edit(study_yaml, "  - protocol/res001-dmpm-02.v2.yaml\n", "")
    edit(v1, "current: false", "current: true")
    reload_registries()
    assert apply(app, folder, "Go-live on the abstract's design").exit_code == 0

    clock.set(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    key = _enrol_and_complete_inf1_d7(ctx_factory)

    # The registration becomes version 2: listed, current, and loaded by the server.
    edit(study_yaml, "  - protocol/res001-dmpm-02.v1.yaml\n",
         "  - protocol/res001-dmpm-02.v1.yaml\n  - protocol/res001-dmpm-02.v2.yaml\n")
    edit(v1, "current: true", "current: false")
    reload_registries()
    unsigned = apply(app, folder, "Amendment 1: the registration's 6 infusions")
    assert unsigned.exit_code == 1
    assert "needs an admin's electronic signature" in unsigned.output
    _create_admin(ctx_factory)
    amended = apply(app, folder, "Amendment 1: the registration's 6 infusions",
                    "signer@example.org", password=SIGNER_PASSWORD)
    assert amended.exit_code == 0, amended.output
    assert "protocol amended to v2; 1 participants moved" in amended.output
    signature = json.loads(audit(app, "SELECT after FROM audit_event"
                                      " WHERE action = 'study.amendment_signed'")[0][0])
    assert signature["signature"]["meaning"] == "I approve applying this protocol amendment"
    rows = _assessments(app, key)
    assert rows["INF1_D7"] == ("1", True)  # completed under v1, stays v1
    assert rows["INF1_D30"] == ("2", False)  # not started: follows v2
    assert ("study.protocol_change", "Amendment 1: the registration's 6 infusions") in audit(app)

    assert "nothing changed" in apply(app, folder, "Again").output

    # Editing v1 in place would change what the completed INF1_D7 was collected under.
    edit(v1, "planned_tolerance_days: 14", "planned_tolerance_days: 10")
    reload_registries()
    before = audit(app)
    refused = apply(app, folder, "Fix the tolerance")
    assert refused.exit_code == 1
    assert "protocol v1 of RES001-DMPM-02 has changed since it was applied" in refused.output
    assert "publish the change as a new version instead" in refused.output
    assert audit(app) == before

    # Restarting the server on the edited folder is refused too, in one line.
    with pytest.raises(ConfigError, match=r"RES001-DMPM-02: protocol v1 differs from what was"
                       r" applied on 2026-03-01 and \d+ assessments or participants exist"):
        create_app(replace(settings, env="production"), clock=clock,
                   engine=app.extensions["pro"]["engine"])


def test_a_changed_definition_nothing_was_collected_under_may_be_fixed(
        app, copy_study, studies_path) -> None:
    folder = copy_study(RES001)
    reload_registries()
    assert apply(app, folder, "Go-live").exit_code == 0
    edit(folder / "protocol" / "res001-dmpm-02.v1.yaml",
         "planned_tolerance_days: 14", "planned_tolerance_days: 10")
    reload_registries()
    fixed = apply(app, folder, "Typo in the superseded version")
    assert fixed.exit_code == 0, fixed.output
    assert "protocol v1 changed (nothing collected under it yet)" in fixed.output
    change = audit(app, "SELECT before, after, reason FROM audit_event"
                        " WHERE action = 'study.definition_change'")
    assert len(change) == 1
    assert change[0][2] == "Typo in the superseded version"
    assert json.loads(change[0][0]).keys() == {"protocol v1"}


def test_study_and_site_changes_are_applied_and_audited_sites_never_dropped(
        app, copy_study, studies_path) -> None:
    folder = copy_study(RES001)
    reload_registries()
    assert apply(app, folder, "Go-live").exit_code == 0
    edit(folder / "study.yaml", "name: Miami,", "name: Miami (University clinic),")
    changed = apply(app, folder, "Miami site renamed")
    assert changed.exit_code == 0
    assert "site MIA name updated" in changed.output
    assert audit(app)[-2] == ("site.update", "Miami site renamed")

    edit(folder / "study.yaml", "  - {code: MIA,", "  # - {code: MIA,")
    refused = apply(app, folder, "Drop Miami")
    assert refused.exit_code == 1
    assert "sites MIA that study.yaml no longer lists" in refused.output


def test_a_folder_the_server_does_not_load_is_refused(app, copy_study) -> None:
    folder = copy_study(RES001)  # not on PRO_STUDIES_PATH (the default: shipped examples)
    edit(folder / "protocol" / "res001-dmpm-02.v2.yaml",
         "planned_tolerance_days: 14", "planned_tolerance_days: 10")
    result = apply(app, folder, "Go-live")
    assert result.exit_code == 1
    assert "protocol v2 is not the one the server loads from PRO_STUDIES_PATH" in result.output
    assert audit(app) == []


def test_a_broken_folder_is_never_applied(app, copy_study) -> None:
    folder = copy_study(RES001)
    edit(folder / "study.yaml", "timezone: America/New_York\n", "timezone: Nowhere/Land\n")
    result = apply(app, folder, "Go-live")
    assert result.exit_code == 1
    assert "unknown time zone 'Nowhere/Land'" in result.output
    assert audit(app) == []


SIGNER_PASSWORD = "amend-with-a-long-passphrase-42"


def _create_admin(ctx_factory) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_factory()
    create_staff_user(ctx, email="signer@example.org", name="Sam Signer",
                      password=SIGNER_PASSWORD, role=Role.admin, sites=[])
    ctx.session.commit()


def _enrol_and_complete_inf1_d7(ctx_factory) -> str:  # type: ignore[no-untyped-def]
    ctx = ctx_factory()
    p = enrol_participant(ctx, "GNV-901", enrolled_on=date(2026, 2, 10))
    record_infusion(ctx, p, 1, status="given", given_at_local=datetime(2026, 2, 25, 10, 0))
    ctx.session.flush()
    a = ctx.session.scalar(select(Assessment).where(Assessment.participant_id == p.id,
                                                    Assessment.code == "INF1_D7"))
    rng = random.Random(7)
    submit(ctx, a, "test-inf1-d7", {c: example_answers(instruments().get(c), rng)
                                     for c in a.instruments}, "en")
    ctx.session.commit()
    assert ctx.session.scalar(select(func.count()).select_from(Assessment)) >= 3
    return p.subject_key


def _assessments(app, key: str) -> dict[str, tuple[str, bool]]:  # type: ignore[no-untyped-def]
    rows = audit(app, "SELECT a.code, a.protocol_version, a.completed_at IS NOT NULL"
                      " FROM assessment a JOIN participant p ON p.id = a.participant_id"
                      f" WHERE p.subject_key = '{key}' AND a.cancelled_at IS NULL")
    return {code: (version, bool(done)) for code, version, done in rows}


def test_production_refuses_to_start_on_a_studies_path_that_does_not_load(
        settings, clock, engine, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRO_STUDIES_PATH", str(tmp_path / "no-such-folder"))
    reload_registries()
    try:
        with pytest.raises(ConfigError, match="the studies on PRO_STUDIES_PATH do not load"):
            create_app(replace(settings, env="production"), clock=clock, engine=engine)
    finally:
        monkeypatch.delenv("PRO_STUDIES_PATH")
        reload_registries()
