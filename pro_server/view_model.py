"""The one way an answer reads more than a model holds: a `Read` wraps the model, reads as it,
and adds what this answer (or this reader) needs. The route returns it; the schema declared in
`@blp.response` dumps it as it would the model, so no route builds a dict of fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Read:
    model: Any

    def __getattr__(self, name: str) -> Any:
        if name == "model" or name.startswith("__"):  # not yet set (copy, pickle)
            raise AttributeError(name)
        return getattr(self.model, name)
