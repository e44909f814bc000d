"""Writing audit events: the only code path that touches the audit table, and only to insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from pro_server.audit.chain import GENESIS_HASH, event_hash, normalise_json
from pro_server.audit.models import AuditEvent
from pro_server.context import ServiceContext

# Any constant works; it names the one lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x50524F_415544  # "PRO AUD"
# session.info key: (transaction, the event it appended last) while that transaction holds
# the chain, so its next append needs neither the lock again nor the tail read back.
_HELD_TAIL = "pro_audit_held_tail"

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
    last = _held_tail(session)
    if last is None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": _CHAIN_LOCK_KEY})
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
    session.info[_HELD_TAIL] = (session.get_transaction(), event)
    return event


def _held_tail(session: Session) -> AuditEvent | None:
    """The event this very transaction appended last, if it still stands.

    Once a transaction has appended, nobody else can append until it ends: it holds the
    chain's advisory lock on PostgreSQL, and SQLite's one write lock. So that event is still
    the tail. Not after commit or rollback (another transaction), nor once a savepoint that
    held the event rolled back (the event is no longer persistent): then the tail is read
    again under the lock."""
    held = session.info.get(_HELD_TAIL)
    if held is None:
        return None
    transaction, event = held
    if transaction is not session.get_transaction() or not inspect(event).persistent:
        return None
    return event


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before/after pair restricted to the keys whose values differ."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
