"""Score values and reasons: what every scoring method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Machine-readable reasons for an absent score.
ITEM_MISSING = "item_missing"
ALL_ITEMS_BLANK = "all_items_blank"
TOO_FEW_CATEGORIES = "too_few_categories"


@dataclass(frozen=True)
class Score:
    """One score: a Decimal value, or ``None`` with the reason it cannot be computed (never 0)."""

    key: str
    value: Decimal | None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError(f"score {self.key} needs exactly one of a value and a reason")

    @classmethod
    def absent(cls, key: str, reason: str, **detail: Any) -> Score:
        return cls(key, None, reason, detail)

    @classmethod
    def of(cls, key: str, value: Decimal, **detail: Any) -> Score:
        return cls(key, value, None, detail)


def json_number(value: Decimal | None) -> int | float | None:
    """Integers stay ints (``47``), anything with decimals becomes a float (``4.7``)."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


@dataclass(frozen=True)
class ScoreResult:
    instrument_code: str
    instrument_version: str
    algorithm: str
    algorithm_version: str
    scores: dict[str, Score]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``value_text`` keeps the exact decimal for consumers that avoid floats."""
        return {
            "instrument": self.instrument_code,
            "instrument_version": self.instrument_version,
            "algorithm": self.algorithm,
            "algorithm_version": self.algorithm_version,
            "scores": {
                key: {
                    "value": json_number(score.value),
                    "value_text": None if score.value is None else str(score.value),
                    "reason": score.reason,
                    "detail": dict(score.detail),
                }
                for key, score in self.scores.items()
            },
        }
