"""Change requests as staff read them: the request, what its answer says, and whether the
reader may decide it. `ChangeRequestSchema` dumps this object; nothing else builds the view."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pro_server.changes.display import item_text, value_label
from pro_server.changes.models import ChangeRequest
from pro_server.instruments import InstrumentDefinition, default_registry
from pro_server.view_model import Read


@dataclass(frozen=True)
class ChangeRequestRead(Read):
    model: ChangeRequest
    can_decide: bool

    @cached_property
    def _definition(self) -> InstrumentDefinition:
        response = self.model.response
        return default_registry().get(response.instrument_code, response.instrument_version)

    @property
    def item_text(self) -> str:
        return item_text(self._definition, self.model.item_id)

    @property
    def old_label(self) -> str:
        return self._label(self.model.old_value)

    @property
    def new_label(self) -> str:
        return self._label(self.model.new_value)

    @property
    def decided_by(self) -> str | None:
        decider = self.model.decided_by
        return decider.name if decider else None

    def _label(self, value: Any) -> str:
        return value_label(self._definition, self.model.item_id, value)
