"""Change requests as staff read them."""

from __future__ import annotations

from typing import Any

from pro_server.changes.display import item_text, value_label
from pro_server.changes.models import ChangeRequest
from pro_server.instruments import default_registry


def change_view(change: ChangeRequest) -> dict[str, Any]:
    response = change.response
    definition = default_registry().get(response.instrument_code, response.instrument_version)
    return {
        "id": change.id, "status": change.status,
        "participant_id": change.participant_id,
        "subject_key": response.assessment.participant.subject_key,
        "site_id": change.site_id,
        "assessment_code": response.assessment.code,
        "response_id": change.response_id, "response_version": response.version,
        "instrument_code": change.instrument_code, "item_id": change.item_id,
        "item_text": item_text(definition, change.item_id),
        "old_value": change.old_value, "new_value": change.new_value,
        "old_label": value_label(definition, change.item_id, change.old_value),
        "new_label": value_label(definition, change.item_id, change.new_value),
        "reason": change.reason, "source": change.source,
        "requested_by": change.requested_by.name, "requested_at": change.requested_at,
        "decided_by": change.decided_by.name if change.decided_by else None,
        "decided_at": change.decided_at, "decision_reason": change.decision_reason,
        "new_response_id": change.new_response_id,
    }
