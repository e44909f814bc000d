"""Writing audit events: the only code path that touches the audit table, and only to insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from pro_server.audit.chain import GENESIS_HASH, event_hash, normalise_json
from pro_server.audit.models import AuditEvent
from pro_server.context import ServiceContext

# Any constant works; it names the one lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x50524F_415544  # "PRO AUD"

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
    """Append one event to the chain, in the caller's transaction."""
    verb = action.rsplit(".", 1)[-1]
    if verb.startswith(REASON_REQUIRED_PREFIXES) and not (reason and reason.strip()):
        raise AuditReasonRequired(f"{action} needs a reason")
    session = ctx.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    content: dict[str, Any] = {
        "seq": (last.seq + 1) if last else 1,
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
        "prev_hash": last.hash if last else GENESIS_HASH,
    }
    event = AuditEvent(**content, hash=event_hash(content))
    session.add(event)
    session.flush()
    return event


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before/after pair restricted to the keys whose values differ."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
