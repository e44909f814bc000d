"""The export bench loads what the app stores beside each response version: else the exports
it measures read tables the app would have filled (its scores as numbers, its export texts)
empty, and measure something no study has."""

from __future__ import annotations

import random

from sqlalchemy import select

from bench.edc_export import ZONE, load_study
from pro_server.db import make_session_factory
from pro_server.responses.export_text import export_row
from pro_server.responses.models import Response, ResponseExport, ResponseScore
from pro_server.responses.score_table import score_rows
from pro_server.schedule.models import Assessment
from pro_server.studies.models import Study


def test_the_bench_stores_each_versions_scores_and_export_texts_as_the_app(
        engine, clock, settings):
    rng = random.Random(7)
    factory = make_session_factory(engine)
    loaded = load_study(factory, clock, settings, "BENCH-T", 20, rng, [10**6])
    with factory() as session:
        study_id = session.scalar(select(Study.id).where(Study.code == "BENCH-T"))
        versions = list(session.scalars(select(Response).where(Response.study_id == study_id)))
        by_id = {v.id: v for v in versions}
        codes = dict(session.execute(select(Assessment.id, Assessment.code)
                                     .where(Assessment.study_id == study_id)).all())
        texts = {r.response_id: {c.key: getattr(r, c.key) for c in ResponseExport.__table__.c}
                 for r in session.scalars(select(ResponseExport))}
        scores = session.execute(select(ResponseScore.response_id, ResponseScore.score_key,
                                        ResponseScore.value)).all()
    assert len(versions) == loaded
    assert any(v.version > 1 for v in versions)  # corrections too
    assert texts == {v.id: export_row(v, by_id.get(v.replaces_id), zone=ZONE)
                     for v in versions}
    assert sorted(scores) == sorted(
        (row["response_id"], row["score_key"], row["value"]) for v in versions if v.is_current
        for row in score_rows(v, codes[v.assessment_id]))
