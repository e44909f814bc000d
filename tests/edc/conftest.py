"""EDC fixtures: our own participants and answers (never the demo's), and client tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from pro_server.audit.sealing import seal
from pro_server.edc.services import create_client
from pro_server.responses.models import Response
from pro_server.studies.languages import approval, approve_language
from pro_server.studies.services import create_site, create_study, get_study
from tests.edc import support

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "data" / "odm1.3.2"
PARSER = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
STUDY = "RES001-DMPM-02"


@pytest.fixture(scope="session")
def odm_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "ODM1-3-2.xsd"), PARSER))


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, PARSER)


@dataclass
class EdcData:
    study_id: int
    token: str
    subjects: list[str]
    corrected: Response
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


@pytest.fixture
def edc(app, demo, clock, ctx_factory, snapshots, engine, settings) -> EdcData:
    """Three participants: baseline and Day 7 submitted (one Day 7 late), one correction."""
    ctx = ctx_factory()
    study_id, token, subjects, corrected_id, tokens = snapshots.world(
        "edc", engine, settings, clock, lambda: _build(ctx, clock))
    corrected = ctx.session.get(Response, corrected_id)
    assert corrected is not None
    return EdcData(study_id, token, subjects, corrected, tokens)


def _build(ctx, clock) -> tuple[int, str, list[str], int, dict[str, str]]:  # type: ignore[no-untyped-def]
    study = get_study(ctx.session, STUDY)
    if approval(ctx, study, "es") is None:
        approve_language(ctx, study, "es", "EDC tests collect Spanish answers")
    start = clock.now()
    enrolled = (start - timedelta(days=2)).date()
    people = [support.enrol(ctx, study, "GNV", "EDC-G01", enrolled_on=enrolled),
              support.enrol(ctx, study, "GNV", "EDC-G02", enrolled_on=enrolled),
              support.enrol(ctx, study, "MIA", "EDC-M01", language="es", enrolled_on=enrolled)]
    ctx.session.commit()
    for n, p in enumerate(people):
        support.submit_all(ctx, p, "BASELINE", seed=n)
    ctx.session.commit()
    clock.set(start + timedelta(hours=1))
    for p in people:
        support.infuse(ctx, p, 1, start + timedelta(minutes=50))
    ctx.session.commit()
    clock.set(start + timedelta(days=6))
    for n, p in enumerate(people[:2]):
        support.submit_all(ctx, p, "INF1_D7", seed=10 + n)
    late = support.start_draft(ctx, people[2], "INF1_D7")
    ctx.session.commit()
    clock.set(late.window_end + timedelta(hours=2))
    support.submit_all(ctx, people[2], "INF1_D7", seed=12)
    ctx.session.commit()
    clock.advance(timedelta(hours=1))
    response = support.current(ctx, people[0], "INF1_D7", "haq_di")
    old = response.answers["dress"]["value"]
    corrected = support.correct(ctx, response, "dress", (old + 1) % 4)
    ctx.session.commit()
    _, token = create_client(ctx, study, "Sponsor EDC", ["scores", "responses", "adherence"])
    _, scores_only = create_client(ctx, study, "Scores only", ["scores"])
    _, adherence_only = create_client(ctx, study, "Adherence only", ["adherence"])
    other = create_study(ctx, code="OTHER-01", name="Another study", registry_id=None,
                         default_timezone="America/New_York", program_name="Check-in",
                         protocol_code=STUDY)
    create_site(ctx, other, code="X1", name="Elsewhere", timezone="America/New_York")
    _, other_token = create_client(ctx, other, "Other EDC", ["scores", "responses"])
    ctx.session.commit()
    seal(ctx.session, ctx.events)  # as the scheduler's job does: the versions get their place (seq)
    clock.advance(timedelta(minutes=1))
    return (study.id, token, [p.subject_key for p in people], corrected.id,
            {"scores": scores_only, "adherence": adherence_only, "other": other_token})


@pytest.fixture
def client(app):
    return app.test_client()
