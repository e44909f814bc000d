"""How an answer reads to staff: the item's English text and the label of a coded value."""

from __future__ import annotations

from typing import Any

from pro_server.instruments import InstrumentDefinition


def item_text(definition: InstrumentDefinition, item_id: str) -> str:
    item = definition.items_by_id.get(item_id)
    return item.text["en"] if item else item_id


def value_label(definition: InstrumentDefinition, item_id: str, value: Any) -> str:
    """'2: Some difficulty' for a coded value, '7' for a number, '(no answer)' for None."""
    if value is None:
        return "(no answer)"
    item = definition.items_by_id.get(item_id)
    if item is None or not item.options:
        unit = f" {item.unit}" if item is not None and item.unit else ""
        return f"{value}{unit}"
    labels = {option.code: option.label["en"] for option in item.options}
    codes = value if isinstance(value, list) else [value]
    return "; ".join(f"{code}: {labels.get(code, '?')}" for code in codes) or "(none checked)"


def item_choices(definition: InstrumentDefinition, item_id: str) -> dict[str, Any]:
    """What a staff form needs to offer a valid new value for the item."""
    item = definition.items_by_id[item_id]
    return {
        "type": item.type, "required": item.required, "min": item.min, "max": item.max,
        "unit": item.unit,
        "options": [{"code": o.code, "label": o.label["en"]} for o in item.options],
    }
