"""The `response_score` rows of response versions: what their `scores` JSON says, as numbers.

`score_rows` is the rule (one row per score key of the version, the value as a float or None
when the manual leaves it unscored); `store_current_scores` keeps the table equal to the
current versions, in the transaction that stores them: the superseded version's rows go, the
new versions' rows come in (one statement each).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from pro_server.responses.models import Response, ResponseScore


def score_rows(response: Response, assessment_code: str) -> list[dict[str, Any]]:
    """The table's rows for one stored version (it needs its id)."""
    return [{"response_id": response.id, "score_key": key, "study_id": response.study_id,
             "site_id": response.site_id, "assessment_code": assessment_code,
             "instrument_code": response.instrument_code,
             "value": None if score["value"] is None else float(score["value"]),
             "submitted_at": response.submitted_at}
            for key, score in response.scores["scores"].items()]


_INSERT = insert(cast(Table, ResponseScore.__table__))  # built once


def store_current_scores(session: Session, assessment_code: str, versions: Iterable[Response],
                         superseded: Response | None = None) -> None:
    """Rows for `versions` (just flushed, current), none left for `superseded`."""
    if superseded is not None:
        session.execute(delete(ResponseScore).where(ResponseScore.response_id == superseded.id))
    rows = [row for version in versions for row in score_rows(version, assessment_code)]
    if rows:
        session.execute(_INSERT, rows)  # Core executemany: no ORM bulk-insert machinery
