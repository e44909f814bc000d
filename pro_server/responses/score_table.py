"""The `response_score` rows of response versions: what their `scores` JSON says, as numbers.

`score_rows` is the rule (one row per score key of the version, the value as a float or None
when the manual leaves it unscored); `store_current_scores` keeps the table equal to the
current versions, in the transaction that stores them: the superseded version's rows go, the
new versions' rows come in (one statement each).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from pro_server.db import insert_rows_now
from pro_server.responses.models import Response, ResponseScore


def score_rows(response: Response, assessment_code: str) -> list[dict[str, Any]]:
    """The table's rows for one stored version (it needs its id)."""
    return version_score_rows({key: getattr(response, key) for key in _VERSION_KEYS},
                              assessment_code)


_VERSION_KEYS = ("id", "study_id", "site_id", "instrument_code", "scores", "submitted_at")


def version_score_rows(version: Mapping[str, Any], assessment_code: str) -> list[dict[str, Any]]:
    """`score_rows` of a stored version's row (its columns by key, with its id)."""
    return [{"response_id": version["id"], "score_key": key, "study_id": version["study_id"],
             "site_id": version["site_id"], "assessment_code": assessment_code,
             "instrument_code": version["instrument_code"],
             "value": None if score["value"] is None else float(score["value"]),
             "submitted_at": version["submitted_at"]}
            for key, score in version["scores"]["scores"].items()]


_TABLE = cast(Table, ResponseScore.__table__)


def store_current_scores(session: Session, assessment_code: str,
                         versions: Iterable[Mapping[str, Any]],
                         superseded: Response | None = None) -> None:
    """Rows for `versions` (rows of versions just stored, with their ids, current), none left
    for `superseded`."""
    if superseded is not None:
        session.execute(delete(ResponseScore).where(ResponseScore.response_id == superseded.id))
    rows = [row for version in versions for row in version_score_rows(version, assessment_code)]
    insert_rows_now(session, _TABLE, rows)  # one statement: no ORM bulk-insert machinery
