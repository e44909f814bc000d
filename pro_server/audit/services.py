"""Writing audit events: the only code path that inserts into the audit table.

An event is only INSERTed here, in the caller's transaction; the database numbers it (`id`)
and nothing is locked, so audited requests run side by side. Its place in the hash chain
(`seq`, `prev_hash`, `hash`) is given after commit by the sealer (`audit.sealing`)."""

from __future__ import annotations

from typing import Any

from pro_server.audit.chain import normalise_json
from pro_server.audit.models import AuditEvent
from pro_server.context import ServiceContext

REASON_REQUIRED_PREFIXES = ("correct", "withdraw")


class AuditReasonRequired(ValueError):
    """A correction or withdrawal was attempted without saying why."""


def record(
    ctx: ServiceContext,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    study_id: int | None = None,
    site_id: int | None = None,
) -> AuditEvent:
    """Append one event, in the caller's transaction (sealed into the chain after commit)."""
    verb = action.rsplit(".", 1)[-1]
    if verb.startswith(REASON_REQUIRED_PREFIXES) and not (reason and reason.strip()):
        raise AuditReasonRequired(f"{action} needs a reason")
    content: dict[str, Any] = {
        "occurred_at": ctx.now(),
        "actor_type": ctx.actor.type,
        "actor_id": ctx.actor.id,
        "actor_label": ctx.actor.label,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "study_id": study_id,
        "site_id": site_id,
        "before": normalise_json(before),
        "after": normalise_json(after),
        "reason": reason,
        "request_id": ctx.request_id,
    }
    event = AuditEvent(**content)
    ctx.session.add(event)  # inserted at the next flush, with the transaction's other events
    return event


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before/after pair restricted to the keys whose values differ."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
