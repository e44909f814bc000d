"""Why a survey was missed: a coordinator records one of a fixed list of reasons (free text
for "other"), which acknowledges the gap. Audited; exported to the EDC as the not-done reason.

Only a survey that is missed at the time of recording can carry a reason; a reason can be
replaced (the audit trail keeps every earlier one) but never removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.schedule.models import Assessment, MissedReason

# Code -> wording shown to staff and sent to the EDC (the order is the order offered).
REASONS: dict[str, str] = {
    MissedReason.NOT_REACHED: "Not reached",
    MissedReason.DECLINED: "Participant declined",
    MissedReason.TOO_UNWELL: "Too unwell",
    MissedReason.TECHNICAL_PROBLEM: "Technical problem",
    MissedReason.HOSPITALISED: "Hospitalised",
    MissedReason.OTHER: "Other",
}
TEXT_MAX = 500


def reason_label(code: str | None, text: str | None) -> str | None:
    """The reason in words ("Other: moved abroad" for other), or None when none is recorded."""
    if code is None:
        return None
    label = REASONS.get(code, code)
    return f"{label}: {text}" if code == "other" and text else label


def row_reason(row: Mapping[str, Any]) -> str | None:
    """`reason_label` of a row holding the assessment's missed_reason columns."""
    return reason_label(row.get("missed_reason"), row.get("missed_reason_text"))


def record_missed_reason(ctx: ServiceContext, a: Assessment, reason: str, text: str | None,
                         grace: timedelta) -> Assessment:
    """Record why `a` was missed; "other" needs its text, the others take none."""
    text = " ".join((text or "").split()) or None
    errors: dict[str, list[str]] = {}
    if reason not in REASONS:
        errors["reason"] = ["Choose one of: " + ", ".join(REASONS)]
    elif reason == "other" and text is None:
        errors["text"] = ["Say what the reason was"]
    elif reason != "other" and text is not None:
        errors["text"] = ["Only for the reason 'other'"]
    if text is not None and len(text) > TEXT_MAX:
        errors["text"] = [f"At most {TEXT_MAX} characters"]
    if errors:
        raise InvalidInput.fields(errors)
    if a.status_at(ctx.now(), grace) != "missed":
        raise Conflict(f"{a.code} is not missed; a reason is recorded for missed surveys only")
    before = {"missed_reason": a.missed_reason, "missed_reason_text": a.missed_reason_text}
    after = {"missed_reason": reason, "missed_reason_text": text}
    if before == after:
        return a
    a.missed_reason, a.missed_reason_text, a.missed_reason_at = (
        MissedReason(reason), text, ctx.now())
    record(ctx, "assessment.missed_reason", "assessment", a.id, before=before, after=after,
           reason=reason_label(reason, text), study_id=a.study_id, site_id=a.site_id)
    return a
