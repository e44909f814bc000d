"""Small helpers shared by the scoring methods."""

from __future__ import annotations

from decimal import Decimal


def rounded_ratio(numerator: int, denominator: int, decimals: int) -> Decimal:
    """``numerator / denominator`` rounded half up to ``decimals`` places, exactly.

    Only for non-negative numerators and positive denominators (all our scores are non-negative).
    Integer arithmetic avoids any intermediate rounding, so 1/8 = 0.125 and 2/3 = 0.667 exactly as a
    person would round them.
    """
    quotient, remainder = divmod(numerator * 10**decimals, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return Decimal(quotient).scaleb(-decimals)
