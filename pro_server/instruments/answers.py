"""Validation of a participant's answers against an instrument definition.

Answer values: single-choice items take the integer option code, ``nrs`` and ``vas`` items an
integer in [min, max] (VAS in whole millimetres), multi-choice items a list of option codes (an
empty list means "none checked"). ``None`` or an absent key means "not answered" and is never
read as 0.

``complete=False`` checks what is there (saving progress); ``complete=True`` also requires every
required item that applies, and refuses answers to items that do not apply (``enable_when``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition, Item

ANSWERS_KEY = "_answers"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def item_applies(item: Item, answers: Mapping[str, Any]) -> bool:
    """Whether ``item`` is asked, given its ``enable_when`` condition and the other answers."""
    if item.enable_when is None:
        return True
    trigger = answers.get(item.enable_when.item)
    return _is_list(trigger) and item.enable_when.contains in trigger


def _value_errors(item: Item, value: Any) -> list[str]:
    if item.type == "multi_choice":
        return _multi_choice_errors(item, value)
    if not _is_int(value):
        return [f"expected an integer, got {type(value).__name__}"]
    if item.type == "single_choice":
        if value not in item.option_codes:
            allowed = ", ".join(str(code) for code in item.option_codes)
            return [f"{value} is not an allowed option code (allowed: {allowed})"]
        return []
    if not item.min <= value <= item.max:
        unit = f" {item.unit}" if item.unit else ""
        return [f"{value} is outside {item.min}-{item.max}{unit}"]
    return []


def _multi_choice_errors(item: Item, value: Any) -> list[str]:
    if not _is_list(value):
        return [f"expected a list of option codes, got {type(value).__name__}"]
    errors: list[str] = []
    seen: set[str] = set()
    for code in value:
        if not isinstance(code, str):
            errors.append(f"option codes are strings, got {type(code).__name__}")
        elif code not in item.option_codes:
            errors.append(f"{code!r} is not an allowed option code")
        elif code in seen:
            errors.append(f"{code!r} is listed twice")
        else:
            seen.add(code)
    return errors


def validate_answers(
    definition: InstrumentDefinition, answers: Mapping[str, Any], *, complete: bool
) -> dict[str, list[str]]:
    """Messages per item id (``{}`` when valid); whole-set problems go under ``_answers``."""
    if not isinstance(answers, Mapping):
        return {ANSWERS_KEY: ["answers must be an object mapping item ids to values"]}
    errors: dict[str, list[str]] = {}
    items = definition.items_by_id
    for key, value in answers.items():
        item = items.get(key) if isinstance(key, str) else None
        if item is None:
            errors.setdefault(str(key), []).append(
                f"unknown item id for {definition.code} {definition.version}"
            )
        elif value is None or (type(value) is int and value in item.plain_values):
            continue  # the usual answer, valid: no call made to say so
        elif messages := _value_errors(item, value):
            errors.setdefault(key, []).extend(messages)
    if complete:
        for item in definition.items:
            answered = answers.get(item.id) is not None
            if item.enable_when is not None and not item_applies(item, answers):
                if answered:
                    condition = item.enable_when
                    assert condition is not None  # only an item with a condition can not apply
                    errors.setdefault(item.id, []).append(
                        f"does not apply unless {condition.item} includes "
                        f"{condition.contains!r}"
                    )
            elif item.required and not answered:
                errors.setdefault(item.id, []).append("required")
    return errors
