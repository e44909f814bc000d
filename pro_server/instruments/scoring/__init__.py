"""Exact, pure-Python scoring of instrument answers (no Flask, no database)."""

from pro_server.instruments.scoring.engine import (
    METHODS,
    InvalidAnswersError,
    check_definition,
    score,
)
from pro_server.instruments.scoring.result import (
    ALL_ITEMS_BLANK,
    ITEM_MISSING,
    TOO_FEW_CATEGORIES,
    Score,
    ScoreResult,
)

__all__ = [
    "ALL_ITEMS_BLANK",
    "ITEM_MISSING",
    "METHODS",
    "TOO_FEW_CATEGORIES",
    "InvalidAnswersError",
    "Score",
    "ScoreResult",
    "check_definition",
    "score",
]
